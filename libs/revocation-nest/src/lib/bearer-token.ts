/** Longest token accepted; anything larger is not one of ours. */
export const MAX_TOKEN_LENGTH = 8192;

const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;
const COOKIE = /(?:^|;\s*)access_token=([^;]*)/;

/**
 * The presented token: `Authorization: Bearer` (RFC 6750 §2.1) first, then the `access_token`
 * cookie. Returns `undefined` when neither is there, `''` when one is there but malformed.
 */
export function extractBearerToken(
  headers: Record<string, string | string[] | undefined>,
): string | undefined {
  const authorization = headers['authorization'];
  if (typeof authorization === 'string' && authorization.length > 0) {
    if (authorization.length > MAX_TOKEN_LENGTH + 7) return '';
    const match = BEARER.exec(authorization);
    if (match !== null) return match[1];
    if (/^Bearer\b/i.test(authorization)) return '';
  }
  const cookie = headers['cookie'];
  if (typeof cookie === 'string') {
    const match = COOKIE.exec(cookie);
    if (match !== null) return match[1]!.length > MAX_TOKEN_LENGTH ? '' : match[1];
  }
  return undefined;
}
