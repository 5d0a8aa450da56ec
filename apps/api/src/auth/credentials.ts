import { InvalidInputError } from '@rescind/revocation-core';

/** A username and password as posted to register and login. */
export interface Credentials {
  readonly username: string;
  readonly password: string;
}

const USERNAME = /^[A-Za-z0-9_.-]{3,64}$/;

/**
 * Validates a JSON body `{username, password}`.
 * @throws InvalidInputError naming the first field that is wrong
 */
export function parseCredentials(body: unknown): Credentials {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InvalidInputError('Expected a JSON object {username, password}');
  }
  const { username, password } = body as Record<string, unknown>;
  if (typeof username !== 'string' || !USERNAME.test(username)) {
    throw new InvalidInputError('username must be 3-64 of [A-Za-z0-9_.-]');
  }
  if (typeof password !== 'string' || password.length < 8 || password.length > 256) {
    throw new InvalidInputError('password must be 8-256 characters');
  }
  return { username, password };
}
