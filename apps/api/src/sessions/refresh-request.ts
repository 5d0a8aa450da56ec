import { BadRequestException } from '@nestjs/common';
import { cookieValue } from './session-cookies';

/** RFC 6749 §5.2 `invalid_request`: the request is malformed (no token, a token twice…). */
export function invalidRequest(description: string): BadRequestException {
  return new BadRequestException({ error: 'invalid_request', error_description: description });
}

/**
 * The refresh token of a `POST /auth/refresh`: the JSON body's `refresh_token`, else the
 * `refresh_token` cookie (a browser's, sent to `/auth` only). Its shape is `SessionService`'s
 * to judge, so that a malformed token is counted and answered like any invalid one.
 * @throws `invalid_request` when there is none, or it is not a string
 */
export function refreshTokenOf(
  body: unknown,
  headers: Record<string, string | string[] | undefined>,
): string {
  let token: unknown;
  if (body !== undefined && body !== null && body !== '') {
    if (typeof body !== 'object' || Array.isArray(body)) {
      throw invalidRequest('Expected a JSON object {refresh_token}');
    }
    token = (body as Record<string, unknown>)['refresh_token'];
  }
  token ??= cookieValue(headers, 'refresh_token');
  if (token === undefined || token === '') {
    throw invalidRequest('refresh_token is required (JSON body or cookie)');
  }
  if (typeof token !== 'string') throw invalidRequest('refresh_token must be a string');
  return token;
}
