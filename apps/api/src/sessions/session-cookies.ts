import { type HttpReply } from '../http/http-reply';

/** The refresh cookie's path: sent back only to `/auth/*`, never with ordinary API calls. */
export const REFRESH_COOKIE_PATH = '/auth';

const ATTRIBUTES = 'HttpOnly; Secure; SameSite=Strict';

/** `access_token` for every path; an empty token with `Max-Age=0` clears it. */
export function accessCookie(token: string, maxAgeSeconds: number): string {
  return `access_token=${token}; ${ATTRIBUTES}; Path=/; Max-Age=${maxAgeSeconds}`;
}

/** `refresh_token` for `/auth` only; an empty token with `Max-Age=0` clears it. */
export function refreshCookie(token: string, maxAgeSeconds: number): string {
  return `refresh_token=${token}; ${ATTRIBUTES}; Path=${REFRESH_COOKIE_PATH}; Max-Age=${maxAgeSeconds}`;
}

/** What a login or a refresh hands the browser: both tokens, each with its lifetime. */
export interface IssuedPair {
  readonly accessToken: string;
  readonly expiresIn: number;
  readonly refreshToken: string;
  readonly refreshExpiresIn: number;
}

/** Sets both cookies (login, refresh), in one header call so that both adapters send both. */
export function setSessionCookies(reply: HttpReply, pair: IssuedPair): void {
  reply.header('Set-Cookie', [
    accessCookie(pair.accessToken, pair.expiresIn),
    refreshCookie(pair.refreshToken, pair.refreshExpiresIn),
  ]);
}

/** Clears both cookies (logout, logout-all). */
export function clearSessionCookies(reply: HttpReply): void {
  reply.header('Set-Cookie', [accessCookie('', 0), refreshCookie('', 0)]);
}

/** The value of cookie `name` in a `Cookie` header, if it is there (the first one wins). */
export function cookieValue(
  headers: Record<string, string | string[] | undefined>,
  name: string,
): string | undefined {
  const header = headers['cookie'];
  if (typeof header !== 'string') return undefined;
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq > 0 && pair.slice(0, eq).trim() === name) return pair.slice(eq + 1).trim();
  }
  return undefined;
}
