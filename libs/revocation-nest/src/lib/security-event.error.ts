import { InvalidInputError } from '@rescind/revocation-core';

/** RFC 8935 §2.4 Security Event Token error codes (the ones a receiver of ours can give). */
export type SecurityEventErrorCode =
  | 'invalid_request'
  | 'invalid_key'
  | 'invalid_issuer'
  | 'invalid_audience'
  | 'authentication_failed';

/**
 * Why a pushed SET was refused, as RFC 8935 §2.3 answers it: `{"err": code, "description": …}`.
 * `authentication_failed` is the push's own credential (RFC 8935 §3), answered 401; every other
 * code is about the SET, answered 400.
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

  /** The HTTP status RFC 8935 gives it: 401 for the push's credential, 400 for the SET. */
  get status(): 400 | 401 {
    return this.err === 'authentication_failed' ? 401 : 400;
  }
}
