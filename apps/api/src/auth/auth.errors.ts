import { type ErrorAnswer } from '@rescind/revocation-nest';
import { RescindError } from '@rescind/revocation-core';

/** The username is already registered. */
export class UsernameTakenError extends RescindError {
  constructor() {
    super('ERR_USERNAME_TAKEN', 'That username is taken');
  }
}

/** Unknown username or wrong password (deliberately not told apart). */
export class BadCredentialsError extends RescindError {
  constructor() {
    super('ERR_BAD_CREDENTIALS', 'Wrong username or password');
  }
}

/** Too many failed logins for this username or address (answered 429 with `Retry-After`). */
export class TooManyAttemptsError extends RescindError {
  constructor(readonly retryAfterSeconds: number) {
    super('ERR_TOO_MANY_ATTEMPTS', 'Too many failed login attempts; try again later');
  }
}

/** Too many registrations from this address (answered 429 with `Retry-After`). */
export class TooManyRegistrationsError extends RescindError {
  constructor(readonly retryAfterSeconds: number) {
    super(
      'ERR_TOO_MANY_REGISTRATIONS',
      'Too many registrations from this address; try again later',
    );
  }
}

/**
 * Every password-hashing slot of this replica is busy and its short queue full (answered 503 with
 * `Retry-After`; docs/design.md, "Login bulkhead").
 */
export class LoginOverloadedError extends RescindError {
  constructor(readonly retryAfterSeconds: number) {
    super('ERR_LOGIN_OVERLOADED', 'Too many logins in progress; try again shortly');
  }
}

/** Not a live session of the caller: unknown, ended, another user's, or not a session id at all. */
export class SessionNotFoundError extends RescindError {
  constructor() {
    super('ERR_SESSION_NOT_FOUND', 'No such session');
  }
}

/** The API's own error codes, for the library's exception filter. */
export const API_ERROR_ANSWERS: Readonly<Record<string, ErrorAnswer>> = {
  ERR_USERNAME_TAKEN: { status: 409 },
  ERR_BAD_CREDENTIALS: { status: 401 },
  ERR_TOO_MANY_ATTEMPTS: { status: 429 },
  ERR_TOO_MANY_REGISTRATIONS: { status: 429 },
  ERR_LOGIN_OVERLOADED: { status: 503 },
  ERR_SESSION_NOT_FOUND: { status: 404 },
  ERR_USER_NOT_FOUND: { status: 404 },
  ERR_REVOCATION_NOT_FOUND: { status: 404 },
  ERR_ADMIN_KEY_MISSING: { status: 401 },
  ERR_ADMIN_KEY_INVALID: { status: 401, challenge: 'invalid_token' },
};
