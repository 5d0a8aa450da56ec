import {
  type Revocation,
  type SessionRevocation,
  type TokenRevocation,
  type UserRevocation,
} from './revocation';
import { REVOCATION_DEFAULTS } from './revocation-defaults';
import { type Milliseconds, type Seconds } from './units';

/** What the rules below need to know about the tokens a deployment accepts. */
export interface RevocationLimits {
  /** Lifetime of issued tokens, also the longest `exp - iat` accepted (plus one second). */
  readonly accessTokenTtlMs: Milliseconds;
  /** How far in the future a token's `iat` may be and still be accepted (clock skew). */
  readonly clockSkewMs: Milliseconds;
}

/** The default of `clockSkewMs` ({@link REVOCATION_DEFAULTS}, which explains it). */
export const DEFAULT_CLOCK_SKEW_MS: Milliseconds = REVOCATION_DEFAULTS.clockSkewMs;

/** The verifier's slack on `exp - iat` against the configured lifetime (rounding). */
export const LIFETIME_SLACK_MS: Milliseconds = 1000;

/**
 * The first instant at which a token with this `exp` is rejected as expired. The verifier
 * compares whole seconds (`floor(now / 1000) >= exp`), so an `exp` of X.5 is valid until X+1
 * (RFC 7519 §2 lets a NumericDate be fractional).
 */
export function expiryOfExp(exp: Seconds): Milliseconds {
  return Math.ceil(exp) * 1000;
}

/**
 * A token's `iat` in whole milliseconds, rounded up: a cut-off at instant c revokes `iat <= c`,
 * and a fraction past c is after it. Whole microseconds first, so float noise cannot add one.
 */
export function issuedAtMs(iat: Seconds): Milliseconds {
  return Math.ceil(Math.round(iat * 1e6) / 1e3);
}

/** The longest a token accepted now can stay valid: dated ahead by the skew, plus slack. */
function longestRemainingMs(limits: RevocationLimits): Milliseconds {
  return limits.clockSkewMs + limits.accessTokenTtlMs + LIFETIME_SLACK_MS + 1000;
}

/**
 * The revocation of one token until it expires on every verifier's clock: a verifier up to the
 * tolerated skew behind the clock that took it accepts the token that much longer, and the
 * store's record (its TTL counted from the taker's clock), index and log entry must outlive that.
 * Without `exp` (an administrator naming a `jti`) it lasts as long as any token accepted now can;
 * an `exp` further out is capped to that.
 */
export function tokenRevocation(
  jti: string,
  exp: Seconds | undefined,
  nowMs: Milliseconds,
  limits: RevocationLimits,
): TokenRevocation {
  const longest = nowMs + longestRemainingMs(limits);
  const expiry = exp === undefined ? longest : Math.min(expiryOfExp(exp), longest);
  return { kind: 'token', id: jti, expiresAtMs: expiry + limits.clockSkewMs, createdAtMs: nowMs };
}

/**
 * The end of one session taken at `nowMs`: it must outlive every access token the session issued,
 * the last of which was issued no later than now (ending a session and refreshing it are atomic,
 * so none is issued afterwards). That is `now + accessTokenTtl + clockSkew` at least; it gets the
 * same bound as a token revocation without `exp` (the verifier's slack on `exp - iat` and on a
 * fractional `exp`, and the skew of a verifier's clock behind the taker's), so that no verifier
 * accepts a token of the session after its entry is gone (docs/design.md, "Entry lifetimes").
 */
export function sessionRevocation(
  sid: string,
  nowMs: Milliseconds,
  limits: RevocationLimits,
): SessionRevocation {
  return {
    kind: 'session',
    id: sid,
    expiresAtMs: nowMs + longestRemainingMs(limits) + limits.clockSkewMs,
    createdAtMs: nowMs,
  };
}

/**
 * "Log out everywhere" taken at `nowMs`: the cut-off reaches the tolerated skew past the clock
 * that takes it, because a token dated that far ahead by a faster clock is still accepted
 * (docs/revocation-model.md, "Clocks"); and as far past the store-wide not-before while that is
 * ahead of the clock, because a token issued just after a store loss is dated just after it. It matters until every token it covers
 * has expired.
 * @param notBeforeMs the store-wide not-before the taking replica holds
 */
export function userRevocation(
  sub: string,
  nowMs: Milliseconds,
  limits: RevocationLimits,
  notBeforeMs: Milliseconds = 0,
): UserRevocation {
  // A token dated after a not-before still ahead of every clock is dated within the skew of it.
  const cutoffMs = Math.max(nowMs, notBeforeMs) + limits.clockSkewMs;
  return {
    kind: 'user',
    id: sub,
    cutoffMs,
    // Until the last token it covers has expired on every verifier's clock (see tokenRevocation).
    expiresAtMs: cutoffMs + limits.accessTokenTtlMs + LIFETIME_SLACK_MS + 1000 + limits.clockSkewMs,
    createdAtMs: nowMs,
  };
}

/**
 * Instants rounded to whole milliseconds, in the safe direction: expiries and cut-offs up (a
 * record must outlive its token, never the reverse), creation down. Redis's `PX` refuses
 * fractions.
 */
export function wholeMilliseconds(revocation: Revocation): Revocation {
  const expiresAtMs = Math.ceil(revocation.expiresAtMs);
  const createdAtMs = Math.floor(revocation.createdAtMs);
  return revocation.kind === 'user'
    ? { ...revocation, expiresAtMs, createdAtMs, cutoffMs: Math.ceil(revocation.cutoffMs) }
    : { ...revocation, expiresAtMs, createdAtMs };
}
