import {
  type Milliseconds,
  type Revocation,
  type RevocationLimits,
} from '@rescind/revocation-core';

/**
 * The `session` revocation of `sid` taken at `nowMs`: until the last access token the session
 * can have handed out has expired on every verifier (SPEC: now + access lifetime + skew).
 * Interim, until the core's `sessionRevocation` arrives with the `session` kind.
 */
export function sessionRevocationOf(
  sid: string,
  nowMs: Milliseconds,
  limits: RevocationLimits,
): Revocation {
  return {
    kind: 'session',
    id: sid,
    expiresAtMs: nowMs + limits.accessTokenTtlMs + limits.clockSkewMs,
    createdAtMs: nowMs,
  } as unknown as Revocation;
}
