import { InvalidInputError } from '@rescind/revocation-core';

/** RFC 8935 §2.4 Security Event Token error codes (the ones a receiver of ours can give). */
export type SecurityEventErrorCode =
  | 'invalid_request'
  | 'invalid_key'
  | 'invalid_issuer'
  | 'invalid_audience'
  | 'authentication_failed';

/**
 * Why a pushed SET was refused, as RFC 8935 §2.3 answers it: 400 `{"err": code, "description": …}`;
 * `authentication_failed` says the push lacked the agreed credential (RFC 8935 §3).
 */
export class SecurityEventError extends InvalidInputError {
  constructor(
    /** The RFC 8935 §2.4 code. */
    readonly err: SecurityEventErrorCode,
    /** Human-readable, never quoting the SET. */
    readonly description: string,
  ) {
    // An InvalidInputError, so that an application that does not answer it as RFC 8935 does
    // (as `POST /ssf/events` does) still answers 400, never 500.
    super(description);
    this.name = 'SecurityEventError';
  }

  /**
   * The HTTP status RFC 8935 §2.3 gives every refusal, the push credential's included: 400 with
   * the `err` code saying why.
   */
  get status(): 400 {
    return 400;
  }
}
