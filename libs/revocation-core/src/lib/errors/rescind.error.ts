/** Stable, machine-readable error codes. Callers branch on these, never on messages. */
export type RescindErrorCode =
  | 'ERR_CONFIG_INVALID'
  | 'ERR_EVENT_MALFORMED'
  | 'ERR_INVALID_GRANT'
  | 'ERR_INVALID_INPUT'
  | 'ERR_NOT_IN_SYNC'
  | 'ERR_STORE_UNAVAILABLE'
  | 'ERR_TOKEN_INVALID'
  | 'ERR_TOKEN_MISSING'
  | 'ERR_TOKEN_REVOKED'
  | (string & { readonly __brand?: never });

/** Base class of every error Rescind raises on purpose (after jose's `JOSEError`). */
export class RescindError extends Error {
  /** A stable code such as `ERR_TOKEN_REVOKED`. */
  readonly code: RescindErrorCode;

  constructor(code: RescindErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}
