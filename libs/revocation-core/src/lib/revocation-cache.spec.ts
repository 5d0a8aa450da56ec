import { type CheckedClaims } from './checked-claims';
import {
  type Revocation,
  type SessionRevocation,
  type TokenRevocation,
  type UserRevocation,
} from './revocation';
import { RevocationCache } from './revocation-cache';
import { RevocationVerdict } from './revocation-verdict';

const NOW = 1_700_000_000_000;
const MINUTE = 60_000;

function token(id: string, expiresAtMs: number): TokenRevocation {
  return { kind: 'token', id, expiresAtMs, createdAtMs: NOW };
}

function user(id: string, cutoffMs: number, expiresAtMs: number): UserRevocation {
  return { kind: 'user', id, cutoffMs, expiresAtMs, createdAtMs: NOW };
}

function session(id: string, expiresAtMs: number): SessionRevocation {
  return { kind: 'session', id, expiresAtMs, createdAtMs: NOW };
}

function claims(jti: string, sub = 'someone', iatMs = NOW - MINUTE): CheckedClaims {
  return { jti, sub, iatMs };
}

function inSession(sid: string, jti: string, iatMs = NOW - MINUTE): CheckedClaims {
  return { jti, sub: 'someone', sid, iatMs };
}

/** A cache well below the default bound, which allocates its arrays up front (slow to create). */
function smallCache(): RevocationCache {
  return new RevocationCache({ maxEntries: 10_000 });
}

/** Deterministic PRNG (mulberry32), so that a failure replays. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('RevocationCache', () => {
  describe('when it is created', () => {
    it('bounds itself to a million entries by default', () => {
      expect(new RevocationCache().maxEntries).toBe(1_000_000);
    });

    it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53])(
      'rejects maxEntries %p with a RangeError',
      (maxEntries) => {
        expect(() => new RevocationCache({ maxEntries })).toThrow(RangeError);
      },
    );

    it('starts empty and complete', () => {
      const cache = smallCache();
      expect(cache.size).toBe(0);
      expect(cache.evictions).toBe(0);
      expect(cache.isComplete(NOW)).toBe(true);
      expect(cache.check(claims('any'), NOW)).toBe(RevocationVerdict.Accepted);
    });
  });

  describe('when a token is revoked', () => {
    const cache = smallCache();
    beforeAll(() => {
      expect(cache.add(token('jti-1', NOW + MINUTE), NOW)).toBe(true);
    });

    it('reports that token as revoked', () => {
      expect(cache.check(claims('jti-1'), NOW)).toBe(RevocationVerdict.Revoked);
    });

    it('accepts any other token', () => {
      expect(cache.check(claims('jti-2'), NOW)).toBe(RevocationVerdict.Accepted);
    });

    it('does not treat the jti as a user id', () => {
      expect(cache.check(claims('other', 'jti-1', NOW - 1), NOW)).toBe(RevocationVerdict.Accepted);
    });

    it('accepts the token again once it would have expired anyway', () => {
      expect(cache.check(claims('jti-1'), NOW + MINUTE - 1)).toBe(RevocationVerdict.Revoked);
      expect(cache.check(claims('jti-1'), NOW + MINUTE)).toBe(RevocationVerdict.Accepted);
    });
  });

  describe('when a user is cut off ("log out everywhere")', () => {
    const cutoffMs = NOW - 1000;
    const cache = smallCache();
    beforeAll(() => {
      cache.add(user('alice', cutoffMs, NOW + MINUTE), NOW);
    });

    it('revokes her tokens issued at or before the cut-off', () => {
      expect(cache.check(claims('a', 'alice', cutoffMs - 5000), NOW)).toBe(
        RevocationVerdict.Revoked,
      );
      expect(cache.check(claims('b', 'alice', cutoffMs), NOW)).toBe(RevocationVerdict.Revoked);
    });

    it('accepts her tokens issued one millisecond after the cut-off', () => {
      expect(cache.check(claims('c', 'alice', cutoffMs + 1), NOW)).toBe(RevocationVerdict.Accepted);
    });

    it("accepts other users' tokens", () => {
      expect(cache.check(claims('d', 'bob', cutoffMs - 5000), NOW)).toBe(
        RevocationVerdict.Accepted,
      );
    });

    it('does not treat the user id as a jti', () => {
      expect(cache.check(claims('alice', 'bob', NOW), NOW)).toBe(RevocationVerdict.Accepted);
    });

    it('lifts the cut-off once no token issued before it can still be valid', () => {
      expect(cache.check(claims('a', 'alice', cutoffMs), NOW + MINUTE - 1)).toBe(
        RevocationVerdict.Revoked,
      );
      expect(cache.check(claims('a', 'alice', cutoffMs), NOW + MINUTE)).toBe(
        RevocationVerdict.Accepted,
      );
    });
  });

  describe('when a session is revoked', () => {
    const cache = smallCache();
    beforeAll(() => {
      expect(cache.add(session('sid-1', NOW + MINUTE), NOW)).toBe(true);
    });

    it('reports every token of that session as revoked, whenever issued', () => {
      expect(cache.check(inSession('sid-1', 'a'), NOW)).toBe(RevocationVerdict.Revoked);
      expect(cache.check(inSession('sid-1', 'b', NOW + 1_000), NOW)).toBe(
        RevocationVerdict.Revoked,
      );
    });

    it('accepts tokens of other sessions, and tokens without a session', () => {
      expect(cache.check(inSession('sid-2', 'a'), NOW)).toBe(RevocationVerdict.Accepted);
      expect(cache.check(claims('a'), NOW)).toBe(RevocationVerdict.Accepted);
    });

    it('does not treat the sid as a jti or a user id', () => {
      expect(cache.check(claims('sid-1'), NOW)).toBe(RevocationVerdict.Accepted);
      expect(cache.check(claims('x', 'sid-1', NOW - 1), NOW)).toBe(RevocationVerdict.Accepted);
    });

    it('does not treat a revoked jti or user id as a sid', () => {
      const other = smallCache();
      other.add(token('j', NOW + MINUTE), NOW);
      other.add(user('u', NOW, NOW + MINUTE), NOW);
      expect(other.check(inSession('j', 'x'), NOW)).toBe(RevocationVerdict.Accepted);
      expect(other.check(inSession('u', 'x'), NOW)).toBe(RevocationVerdict.Accepted);
    });

    it('accepts its tokens again once none of them can still be valid', () => {
      expect(cache.check(inSession('sid-1', 'a'), NOW + MINUTE - 1)).toBe(
        RevocationVerdict.Revoked,
      );
      expect(cache.check(inSession('sid-1', 'a'), NOW + MINUTE)).toBe(RevocationVerdict.Accepted);
    });

    it('keeps the later expiry, idempotently, and purges the entry once it has passed', () => {
      const merged = smallCache();
      expect(merged.add(session('s', NOW + 2 * MINUTE), NOW)).toBe(true);
      expect(merged.add(session('s', NOW + MINUTE), NOW)).toBe(false);
      expect(merged.add(session('s', NOW + 2 * MINUTE), NOW)).toBe(false);
      expect(merged.add(session('s', NOW + 3 * MINUTE), NOW)).toBe(true);
      expect(merged.size).toBe(1);
      expect(merged.purgeExpired(NOW + 2 * MINUTE + 1_000)).toBe(0);
      expect(merged.purgeExpired(NOW + 3 * MINUTE + 1_000)).toBe(1);
      expect(merged.size).toBe(0);
    });
  });

  describe('when revocations of the same token or user are merged', () => {
    it('reports no change for a repeated token revocation', () => {
      const cache = smallCache();
      expect(cache.add(token('t', NOW + MINUTE), NOW)).toBe(true);
      expect(cache.add(token('t', NOW + MINUTE), NOW)).toBe(false);
      expect(cache.size).toBe(1);
    });

    it('keeps the later expiry of a token whichever order they arrive in', () => {
      const cache = smallCache();
      expect(cache.add(token('t', NOW + 2 * MINUTE), NOW)).toBe(true);
      expect(cache.add(token('t', NOW + MINUTE), NOW)).toBe(false);
      expect(cache.check(claims('t'), NOW + MINUTE + 1)).toBe(RevocationVerdict.Revoked);

      expect(cache.add(token('t', NOW + 3 * MINUTE), NOW)).toBe(true);
      expect(cache.check(claims('t'), NOW + 3 * MINUTE - 1)).toBe(RevocationVerdict.Revoked);
    });

    it('keeps the later cut-off of a user and never un-revokes a token', () => {
      const cache = smallCache();
      cache.add(user('alice', NOW - 1000, NOW + MINUTE), NOW);
      expect(cache.add(user('alice', NOW - 5000, NOW + MINUTE), NOW)).toBe(false);
      expect(cache.check(claims('x', 'alice', NOW - 2000), NOW)).toBe(RevocationVerdict.Revoked);

      expect(cache.add(user('alice', NOW - 500, NOW + MINUTE), NOW)).toBe(true);
      expect(cache.check(claims('x', 'alice', NOW - 500), NOW)).toBe(RevocationVerdict.Revoked);
      expect(cache.check(claims('x', 'alice', NOW - 499), NOW)).toBe(RevocationVerdict.Accepted);
    });

    it('keeps the later cut-off and the later expiry when each comes from a different revocation', () => {
      const cache = smallCache();
      cache.add(user('alice', NOW - 1000, NOW + 2 * MINUTE), NOW);
      // A later cut-off with an earlier expiry (e.g. tokens got shorter-lived in between).
      expect(cache.add(user('alice', NOW, NOW + MINUTE), NOW)).toBe(true);

      expect(cache.check(claims('x', 'alice', NOW), NOW)).toBe(RevocationVerdict.Revoked);
      expect(cache.check(claims('x', 'alice', NOW - 1000), NOW + 2 * MINUTE - 1)).toBe(
        RevocationVerdict.Revoked,
      );
      const [held] = [...cache.revocations(NOW)];
      expect(held).toMatchObject({ kind: 'user', cutoffMs: NOW, expiresAtMs: NOW + 2 * MINUTE });
    });

    it('holds one entry per user however often she is cut off', () => {
      const cache = smallCache();
      for (let i = 0; i < 10; i++) cache.add(user('alice', NOW - 10_000 + i, NOW + MINUTE), NOW);
      expect(cache.size).toBe(1);
    });
  });

  describe('when a revocation has already expired', () => {
    it.each([
      ['a token', token('t', NOW)],
      ['a token long gone', token('t', NOW - MINUTE)],
      ['a user', user('u', NOW - MINUTE, NOW)],
    ] as [string, Revocation][])('does not add %s', (_what, revocation) => {
      const cache = smallCache();
      expect(cache.add(revocation, NOW)).toBe(false);
      expect(cache.size).toBe(0);
      expect(cache.check(claims('t', 'u', NOW - 2 * MINUTE), NOW - 2 * MINUTE)).toBe(
        RevocationVerdict.Accepted,
      );
    });
  });

  describe('when expired entries are purged', () => {
    it('removes entries once the second they expired in is over, and reports how many', () => {
      const cache = smallCache();
      const base = Math.floor(NOW / 1000) * 1000;
      cache.add(token('a', base + 1_100), base);
      cache.add(token('b', base + 1_900), base);
      cache.add(token('c', base + 2_500), base);
      cache.add(user('u', base - 1, base + 1_500), base);
      cache.add(token('live', base + MINUTE), base);
      expect(cache.size).toBe(5);

      // Token expiries are kept to the whole second, rounded up: `a` still counts until +2 s.
      expect(cache.purgeExpired(base + 1_950)).toBe(0);
      expect(cache.check(claims('a'), base + 1_950)).toBe(RevocationVerdict.Revoked);
      expect(cache.check(claims('a'), base + 2_000)).toBe(RevocationVerdict.Accepted);

      expect(cache.purgeExpired(base + 2_000)).toBe(3);
      expect(cache.size).toBe(2);
      expect(cache.purgeExpired(base + 3_000)).toBe(1);
      expect(cache.size).toBe(1);
      expect(cache.check(claims('live'), base + 3_000)).toBe(RevocationVerdict.Revoked);
    });

    it('is idempotent', () => {
      const cache = smallCache();
      cache.add(token('a', NOW + 1_000), NOW);
      expect(cache.purgeExpired(NOW + 5_000)).toBe(1);
      expect(cache.purgeExpired(NOW + 5_000)).toBe(0);
      expect(cache.purgeExpired(NOW + 6_000)).toBe(0);
    });

    it('keeps an entry re-added with a later expiry', () => {
      const cache = smallCache();
      cache.add(token('t', NOW + 1_000), NOW);
      cache.add(token('t', NOW + MINUTE), NOW);
      cache.add(user('u', NOW, NOW + 1_000), NOW);
      cache.add(user('u', NOW, NOW + MINUTE), NOW);

      expect(cache.purgeExpired(NOW + 10_000)).toBe(0);
      expect(cache.size).toBe(2);
      expect(cache.check(claims('t'), NOW + 10_000)).toBe(RevocationVerdict.Revoked);
      expect(cache.check(claims('x', 'u', NOW), NOW + 10_000)).toBe(RevocationVerdict.Revoked);

      expect(cache.purgeExpired(NOW + MINUTE + 1_000)).toBe(2);
      expect(cache.size).toBe(0);
    });

    it('never removes a live entry, whatever the order and spacing of purges', () => {
      const random = prng(42);
      const cache = smallCache();
      const expiries = new Map<string, number>();
      let now = NOW;
      for (let round = 0; round < 300; round++) {
        for (let i = 0; i < 20; i++) {
          const id = `t${Math.floor(random() * 2_000)}`;
          const expiresAtMs = now + Math.floor(random() * 30_000) + 1;
          cache.add(token(id, expiresAtMs), now);
          // The cache keeps token expiries to the whole second, rounded up.
          const kept = Math.ceil(expiresAtMs / 1000) * 1000;
          expiries.set(id, Math.max(expiries.get(id) ?? 0, kept));
        }
        // Mostly small steps, sometimes a long pause (the purge then walks every bucket).
        now += random() < 0.05 ? Math.floor(random() * 40_000) : Math.floor(random() * 1_500);
        cache.purgeExpired(now);

        const live = [...expiries].filter(([, e]) => e > now);
        const expiringThisSecond = [...expiries].filter(
          ([, e]) => e <= now && e >= Math.floor(now / 1000) * 1000,
        );
        const lost = live.filter(
          ([id]) => cache.check(claims(id), now) !== RevocationVerdict.Revoked,
        );
        expect(lost).toEqual([]);
        expect(cache.size).toBeGreaterThanOrEqual(live.length);
        expect(cache.size).toBeLessThanOrEqual(live.length + expiringThisSecond.length);
      }
      now += 31_000;
      cache.purgeExpired(now);
      expect(cache.size).toBe(0);
    });
  });

  describe('when an entry is evicted by the size bound', () => {
    function filledCache(): RevocationCache {
      const cache = new RevocationCache({ maxEntries: 2 });
      cache.add(token('first', NOW + 10_000), NOW);
      cache.add(token('second', NOW + 20_000), NOW);
      cache.add(user('alice', NOW, NOW + 5_000), NOW); // evicts `first`
      return cache;
    }

    it('counts the eviction and no longer calls itself complete', () => {
      const cache = filledCache();
      expect(cache.size).toBe(2);
      expect(cache.evictions).toBe(1);
      expect(cache.isComplete(NOW)).toBe(false);
    });

    it('still reports the entries it holds as revoked', () => {
      const cache = filledCache();
      expect(cache.check(claims('second'), NOW)).toBe(RevocationVerdict.Revoked);
      expect(cache.check(claims('x', 'alice', NOW), NOW)).toBe(RevocationVerdict.Revoked);
    });

    it('reports misses as unknown until the evicted token would have expired', () => {
      const cache = filledCache();
      expect(cache.check(claims('first'), NOW)).toBe(RevocationVerdict.Unknown);
      expect(cache.check(claims('never-revoked'), NOW + 9_999)).toBe(RevocationVerdict.Unknown);
      expect(cache.isComplete(NOW + 9_999)).toBe(false);

      expect(cache.isComplete(NOW + 10_000)).toBe(true);
      expect(cache.check(claims('first'), NOW + 10_000)).toBe(RevocationVerdict.Accepted);
      expect(cache.check(claims('never-revoked'), NOW + 10_000)).toBe(RevocationVerdict.Accepted);
    });

    it('stays incomplete until the latest expiry among all evicted entries', () => {
      const cache = new RevocationCache({ maxEntries: 1 });
      cache.add(token('long', NOW + 30_000), NOW);
      cache.add(token('short', NOW + 10_000), NOW); // evicts `long`
      cache.add(token('third', NOW + 20_000), NOW); // evicts `short`
      expect(cache.evictions).toBe(2);
      expect(cache.check(claims('x'), NOW + 29_999)).toBe(RevocationVerdict.Unknown);
      expect(cache.check(claims('x'), NOW + 30_000)).toBe(RevocationVerdict.Accepted);
    });

    it('stays complete when the evicted entry had already expired', () => {
      const cache = new RevocationCache({ maxEntries: 1 });
      cache.add(token('old', NOW + 1_000), NOW);
      cache.add(token('new', NOW + MINUTE), NOW + 2_000); // evicts the expired `old`
      expect(cache.evictions).toBe(1);
      expect(cache.isComplete(NOW + 2_000)).toBe(true);
      expect(cache.check(claims('x'), NOW + 2_000)).toBe(RevocationVerdict.Accepted);
    });

    it('does not count purges, merges or repeats as evictions', () => {
      const cache = new RevocationCache({ maxEntries: 2 });
      cache.add(token('a', NOW + 1_000), NOW);
      cache.add(token('a', NOW + 2_000), NOW);
      cache.add(user('u', NOW, NOW + 1_000), NOW);
      cache.add(user('u', NOW + 1, NOW + 1_000), NOW);
      cache.purgeExpired(NOW + 5_000);
      cache.add(token('b', NOW + MINUTE), NOW + 5_000);
      expect(cache.evictions).toBe(0);
      expect(cache.isComplete(NOW + 5_000)).toBe(true);
    });
  });

  describe('when its revocations are listed', () => {
    it('yields live entries only, with their cut-offs and expiries', () => {
      const cache = smallCache();
      cache.add(token('soon', NOW + 1_000), NOW);
      cache.add(token('later', NOW + MINUTE), NOW);
      cache.add(user('alice', NOW - 7, NOW + MINUTE), NOW);
      cache.add(user('bob', NOW - 7, NOW + 1_000), NOW);
      cache.add(session('s-live', NOW + MINUTE), NOW);
      cache.add(session('s-gone', NOW + 1_000), NOW);

      const listed = [...cache.revocations(NOW + 1_000)].sort((a, b) => a.id.localeCompare(b.id));
      expect(listed).toEqual([
        {
          kind: 'user',
          id: 'alice',
          cutoffMs: NOW - 7,
          expiresAtMs: NOW + MINUTE,
          createdAtMs: expect.any(Number),
        },
        { kind: 'token', id: 'later', expiresAtMs: NOW + MINUTE, createdAtMs: expect.any(Number) },
        {
          kind: 'session',
          id: 's-live',
          expiresAtMs: NOW + MINUTE,
          createdAtMs: expect.any(Number),
        },
      ]);
      expect([...cache.revocations(NOW + MINUTE)]).toEqual([]);
    });

    it('yields ids containing the key separator intact', () => {
      const cache = smallCache();
      cache.add(token('t:u:x', NOW + MINUTE), NOW);
      expect([...cache.revocations(NOW)].map((r) => r.id)).toEqual(['t:u:x']);
    });
  });

  describe('when a flood of revocations passes through a small bound', () => {
    it('keeps no more keys waiting for their purge than it holds entries', () => {
      const cache = new RevocationCache({ maxEntries: 100 });
      for (let i = 0; i < 20_000; i++) cache.add(token(`flood-${i}`, NOW + MINUTE + i), NOW);
      for (let i = 0; i < 200; i++) cache.add(user(`u-${i}`, NOW + i, NOW + MINUTE), NOW);
      expect(cache.size).toBe(100);
      expect(cache.scheduledPurges).toBeLessThanOrEqual(100);
    });

    it('keeps the stale slots of moved and evicted keys bounded', () => {
      const cache = new RevocationCache({ maxEntries: 100 });
      for (let round = 0; round < 200; round++) {
        // Each round moves every key to a later second, and evicts as many with newcomers.
        for (let i = 0; i < 100; i++) cache.add(token(`k-${i}`, NOW + MINUTE + 1_000 * round), NOW);
        for (let i = 0; i < 100; i++) cache.add(token(`n-${round}-${i}`, NOW + MINUTE), NOW);
      }
      expect(cache.scheduledPurges).toBe(cache.size);
      expect(cache.purgeSlots).toBeLessThanOrEqual(2 * cache.size + 1024);
      expect(cache.purgeExpired(NOW + MINUTE + 1_000 * 200)).toBe(100);
      expect(cache.scheduledPurges).toBe(0);
      expect(cache.purgeSlots).toBe(0);
    });

    it('still purges what it holds once it expires', () => {
      const cache = new RevocationCache({ maxEntries: 10 });
      for (let i = 0; i < 50; i++) cache.add(token(`t-${i}`, NOW + 1_000 * (i % 3) + 1), NOW);
      expect(cache.purgeExpired(NOW + 10_000)).toBe(10);
      expect(cache.size).toBe(0);
      expect(cache.scheduledPurges).toBe(0);
    });
  });

  describe('when the store-wide not-before is raised', () => {
    it('rejects every token issued at or before it, and none after', () => {
      const cache = smallCache();
      expect(cache.raiseNotBefore(NOW)).toBe(true);
      expect(cache.check(claims('any', 'anyone', NOW), NOW)).toBe(RevocationVerdict.Revoked);
      expect(cache.check(claims('any', 'anyone', NOW + 1), NOW)).toBe(RevocationVerdict.Accepted);
    });

    it('never lowers it', () => {
      const cache = smallCache();
      cache.raiseNotBefore(NOW);
      expect(cache.raiseNotBefore(NOW - 1)).toBe(false);
      expect(cache.raiseNotBefore(Number.NaN)).toBe(false);
      expect(cache.notBeforeMs).toBe(NOW);
    });
  });
});
