import { RescindError } from '@rescind/revocation-core';

/** How a refresh token was refused: unusable (`invalid`), or presented again after rotation. */
export type InvalidGrantOutcome = 'invalid' | 'reused';

const MESSAGES: Readonly<Record<InvalidGrantOutcome, string>> = {
  invalid: 'The refresh token is invalid, expired or revoked',
  reused: 'The refresh token was already used; its session has been revoked',
};

/**
 * A refresh token that cannot be exchanged (RFC 6749 §5.2 `invalid_grant`), answered with 401
 * `{"error":"invalid_grant","error_description":…}` by the module's exception filter.
 */
export class InvalidGrantError extends RescindError {
  constructor(readonly outcome: InvalidGrantOutcome) {
    super('ERR_INVALID_GRANT', MESSAGES[outcome]);
  }
}
