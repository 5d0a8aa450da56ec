import { createHmac } from 'node:crypto';

/** JWT header and claims as plain JSON. */
export type JwtPart = Record<string, unknown>;

function base64url(value: JwtPart | string): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString(
    'base64url',
  );
}

/** The claims of a compact JWT, without verifying anything. */
export function decodeClaims(token: string): JwtPart {
  const payload = token.split('.')[1];
  if (payload === undefined) throw new Error('not a compact JWT');
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as JwtPart;
}

/** HMAC algorithms of RFC 7518 §3.2 and the hash each uses. */
const HMAC_HASHES = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' } as const;

/** Signs `claims` with an HMAC (RFC 7515); `header` fields override the default header. */
export function signHmac(
  claims: JwtPart,
  secret: string,
  alg: keyof typeof HMAC_HASHES = 'HS256',
  header: JwtPart = {},
): string {
  const input = `${base64url({ alg, typ: 'JWT', ...header })}.${base64url(claims)}`;
  return `${input}.${createHmac(HMAC_HASHES[alg], secret).update(input).digest('base64url')}`;
}

/** An unsecured JWT (RFC 7519 §6: `alg: none`, empty signature). */
export function unsecuredJwt(claims: JwtPart): string {
  return `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url(claims)}.`;
}

/** The same token with its signature replaced by one over the same input with another key. */
export function resigned(token: string, otherSecret: string): string {
  const [header, payload] = token.split('.');
  const input = `${header}.${payload}`;
  return `${input}.${createHmac('sha256', otherSecret).update(input).digest('base64url')}`;
}
