import {
  expiryOfExp,
  issuedAtMs,
  sessionRevocation,
  tokenRevocation,
  userRevocation,
  wholeMilliseconds,
} from './revocation-rules';

const NOW = 1_700_000_000_000;
const LIMITS = { accessTokenTtlMs: 900_000, clockSkewMs: 1000 };

/** As the verifier decides it: expired from the second `exp` names. */
function validAt(exp: number, nowMs: number): boolean {
  return Math.floor(nowMs / 1000) < exp;
}

describe('revocation rules', () => {
  describe('when a token has a fractional exp (RFC 7519 §2)', () => {
    it.each([1_700_000_060, 1_700_000_060.5, 1_700_000_060.001, 1_700_000_060.999])(
      'revokes %p for as long as a verifier up to the skew behind accepts it, in whole milliseconds',
      (exp) => {
        const revocation = tokenRevocation('j', exp, NOW, LIMITS);
        const behind = revocation.expiresAtMs - LIMITS.clockSkewMs;
        expect(Number.isSafeInteger(revocation.expiresAtMs)).toBe(true);
        expect(validAt(exp, behind - 1)).toBe(true);
        expect(validAt(exp, behind)).toBe(false);
      },
    );

    it('ends a whole-second exp exactly when the token does', () => {
      expect(expiryOfExp(1_700_000_060)).toBe(1_700_000_060_000);
    });
  });

  describe('when the clock that revokes runs ahead of a verifier (by at most the skew)', () => {
    // The store's record lives `expiresAtMs - now` on the revoking replica's clock; a verifier
    // whose clock is behind accepts the token that much longer (found by libs/revocation-sim).
    it.each([1_700_000_060, 1_700_000_060.5])(
      'keeps the record of a token with exp %p until that verifier rejects it',
      (exp) => {
        const takerNow = NOW;
        const revocation = tokenRevocation('j', exp, takerNow, LIMITS);
        const recordEndsAt = takerNow + (revocation.expiresAtMs - takerNow); // on the taker's clock
        const verifierAtRecordEnd = recordEndsAt - LIMITS.clockSkewMs; // same instant, behind
        expect(validAt(exp, verifierAtRecordEnd)).toBe(false);
      },
    );
  });

  describe('when an exp lies beyond any token accepted now', () => {
    it('caps the revocation to the longest a token dated ahead by the skew can live', () => {
      const capped = tokenRevocation('j', NOW / 1000 + 86_400, NOW, LIMITS);
      const longest = NOW + 1000 + 900_000 + 2000;
      expect(capped.expiresAtMs).toBe(longest + LIMITS.clockSkewMs);
      // The longest-lived token we accept now: dated 1 s ahead, one second of lifetime slack.
      const exp = (NOW + 1000) / 1000 + 900 + 1;
      expect(tokenRevocation('j', exp, NOW, LIMITS).expiresAtMs).toBe(
        expiryOfExp(exp) + LIMITS.clockSkewMs,
      );
      expect(expiryOfExp(exp)).toBeLessThanOrEqual(longest);
    });
  });

  describe('when a user logs out everywhere', () => {
    it('covers a token dated up to the tolerated skew ahead of the clock', () => {
      const revocation = userRevocation('alice', NOW, LIMITS);
      expect(revocation.cutoffMs).toBe(NOW + 1000);
      expect(issuedAtMs((NOW + 500) / 1000)).toBeLessThanOrEqual(revocation.cutoffMs);
    });

    it('reaches the skew past a store-wide not-before that is still ahead of the clock', () => {
      // Just after a store loss the not-before is ahead of the clock; a logout-all taken then
      // must still cover a token of a clock ahead that was issued just after it.
      const notBeforeMs = NOW + 1000 + 400;
      const revocation = userRevocation('alice', NOW, LIMITS, notBeforeMs);
      expect(revocation.cutoffMs).toBe(notBeforeMs + 1000);
      expect(issuedAtMs((notBeforeMs + 1.4) / 1000)).toBeLessThanOrEqual(revocation.cutoffMs);
      expect(userRevocation('alice', NOW, LIMITS, NOW - 5).cutoffMs).toBe(NOW + 1000);
    });

    it('lasts until every token it covers has expired, on every clock within the skew', () => {
      const { cutoffMs, expiresAtMs } = userRevocation('alice', NOW, LIMITS);
      const latestExp = cutoffMs / 1000 + 900 + 1; // issued at the cut-off, with slack
      expect(expiresAtMs).toBeGreaterThanOrEqual(expiryOfExp(latestExp) + LIMITS.clockSkewMs);
    });
  });

  describe('when a session ends', () => {
    it('lasts until the last token the session issued (now, dated ahead) has expired on every clock', () => {
      const revocation = sessionRevocation('sid-1', NOW, LIMITS);
      expect(revocation).toMatchObject({ kind: 'session', id: 'sid-1', createdAtMs: NOW });
      // The design's lower bound: now + access token lifetime + skew.
      expect(revocation.expiresAtMs).toBeGreaterThanOrEqual(
        NOW + LIMITS.accessTokenTtlMs + LIMITS.clockSkewMs,
      );
      // A token issued now by a clock ahead by the skew, with the verifier's slack on exp - iat,
      // seen by a verifier behind by the skew.
      const latestExp = (NOW + LIMITS.clockSkewMs) / 1000 + 900 + 1;
      expect(revocation.expiresAtMs).toBeGreaterThanOrEqual(
        expiryOfExp(latestExp) + LIMITS.clockSkewMs,
      );
    });

    it('lasts exactly as long as the revocation of a token whose exp is unknown', () => {
      expect(sessionRevocation('s', NOW, LIMITS).expiresAtMs).toBe(
        tokenRevocation('j', undefined, NOW, LIMITS).expiresAtMs,
      );
    });
  });

  describe('when iat is converted to milliseconds', () => {
    it('rounds a fraction up and adds nothing to a whole millisecond', () => {
      expect(issuedAtMs(1_700_000_000.123)).toBe(1_700_000_000_123);
      expect(issuedAtMs(1_700_000_000.1234)).toBe(1_700_000_000_124);
      for (let ms = NOW; ms < NOW + 1000; ms += 7) expect(issuedAtMs(ms / 1000)).toBe(ms);
    });
  });

  describe('when instants are not whole milliseconds', () => {
    it('rounds expiries and cut-offs up and the creation down', () => {
      expect(
        wholeMilliseconds({
          kind: 'user',
          id: 'a',
          cutoffMs: NOW + 0.5,
          expiresAtMs: NOW + 10.2,
          createdAtMs: NOW + 0.7,
        }),
      ).toEqual({
        kind: 'user',
        id: 'a',
        cutoffMs: NOW + 1,
        expiresAtMs: NOW + 11,
        createdAtMs: NOW,
      });
    });
  });
});
