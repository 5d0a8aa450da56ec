import { RescindError } from './rescind.error';

/** No bearer token was presented (RFC 6750 §3.1: no error code in the challenge). */
export class TokenMissingError extends RescindError {
  constructor() {
    super('ERR_TOKEN_MISSING', 'Authentication required');
  }
}

/** The token is malformed, badly signed, expired or lacks a required claim. */
export class TokenInvalidError extends RescindError {
  constructor(message = 'The access token is invalid') {
    super('ERR_TOKEN_INVALID', message);
  }
}

/** The token verifies but has been revoked (logout, logout-all or an admin revocation). */
export class TokenRevokedError extends RescindError {
  constructor() {
    super('ERR_TOKEN_REVOKED', 'The access token has been revoked');
  }
}
