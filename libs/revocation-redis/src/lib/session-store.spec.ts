import { randomBytes } from 'node:crypto';
import { sessionRevocation as sessionRule, userRevocation } from '@rescind/revocation-core';
import { type Redis } from 'ioredis';
import { connectRedis, deleteKeys, freshKeys, HOUR, keysUnder } from '../testing/store-fixtures';
import { type RedisKeys } from './redis-keys';
import { RevocationStore } from './revocation-store';
import { type NewSession, type Rotation, SessionStore } from './session-store';

const LIMITS = { accessTokenTtlMs: 60_000, clockSkewMs: 500 };
const TTL = 14 * 24 * HOUR;
const GRACE = 10_000;

const sidOf = (): string => randomBytes(16).toString('base64url');
const digestOf = (): string => randomBytes(32).toString('base64url');

const sessionRevocation = (sid: string, nowMs: number) => sessionRule(sid, nowMs, LIMITS);

describe('SessionStore (against a real Redis)', () => {
  let redis: Redis;
  let keys: RedisKeys;
  let store: SessionStore;
  let revocations: RevocationStore;
  let now: number;

  beforeAll(() => {
    redis = connectRedis();
  });

  beforeEach(async () => {
    keys = freshKeys();
    now = Date.now();
    const clock = { now: () => now };
    store = new SessionStore(redis, keys, { clock });
    revocations = new RevocationStore(redis, keys, { clock });
    // The data set exists before any session, as it does once a replica has started; its
    // not-before (now + skew) revokes whatever was born before it, sessions included.
    await revocations.readHead();
    now += 1000;
  });

  afterEach(async () => {
    await deleteKeys(redis, keys.prefix);
  });

  afterAll(async () => {
    await redis.quit();
  });

  async function start(sub = 'alice', extra: Partial<NewSession> = {}): Promise<NewSession> {
    const session: NewSession = {
      sid: sidOf(),
      sub,
      createdAtMs: now,
      refreshDigest: digestOf(),
      refreshExpiresAtMs: now + TTL,
      userAgent: 'test-agent',
      ip: '10.0.0.1',
      ...extra,
    };
    await store.create(session);
    return session;
  }

  function rotation(session: NewSession, presentedDigest: string): Rotation {
    return {
      sid: session.sid,
      sub: session.sub,
      presentedDigest,
      nextDigest: digestOf(),
      nextExpiresAtMs: now + TTL,
      graceMs: GRACE,
    };
  }

  /** Presents `digest`; returns the outcome and the digest issued, if any. */
  async function present(session: NewSession, digest: string, graceMs = GRACE) {
    const next = { ...rotation(session, digest), graceMs };
    const result = await store.rotate(next, sessionRevocation(session.sid, now), {
      reason: 'refresh-token-reuse',
    });
    return { result, issued: next.nextDigest };
  }

  describe('a new session', () => {
    it('is listed, described by its refresh token and looked up by its digest', async () => {
      const session = await start();
      expect(await store.lookup(session.refreshDigest)).toEqual({ sid: session.sid, sub: 'alice' });
      const expected = {
        sid: session.sid,
        sub: 'alice',
        createdAtMs: now,
        lastUsedAtMs: now,
        userAgent: 'test-agent',
        ip: '10.0.0.1',
        expiresAtMs: now + TTL,
      };
      expect(await store.list('alice')).toEqual([expected]);
      expect(await store.describe(session.refreshDigest, GRACE)).toEqual(expected);
      expect(await store.list('bob')).toEqual([]);
      expect(await store.lookup(digestOf())).toBeUndefined();
      expect(await store.describe(digestOf(), GRACE)).toBeUndefined();
    });

    it('stores only digests: no key or value holds anything but them', async () => {
      const session = await start();
      const found = await keysUnder(redis, `${keys.prefix}:sess:*`);
      expect(found.sort()).toEqual(
        [
          keys.session(session.sid),
          keys.sessionRefreshTokens(session.sid),
          keys.refreshToken(session.refreshDigest),
          keys.sessionsOf('alice'),
          keys.sessionExpiries(),
        ].sort(),
      );
      // Every key expires by itself, the tidy job's work list aside.
      for (const key of found.filter((k) => k !== keys.sessionExpiries())) {
        expect(await redis.pttl(key)).toBeGreaterThan(TTL - 60_000);
      }
    });
  });

  describe('rotation', () => {
    it('replaces the current token, slides the session and records where it was used', async () => {
      const session = await start();
      now += 60_000;
      const { result, issued } = await present(session, session.refreshDigest);
      expect(result).toEqual({ outcome: 'rotated', expiresAtMs: now + TTL });
      const [listed] = await store.list('alice');
      expect(listed).toMatchObject({ lastUsedAtMs: now, expiresAtMs: now + TTL });
      expect(await store.describe(issued, GRACE)).toMatchObject({ sid: session.sid });
    });

    it('answers a token rotated out within the grace with a sibling; both stay valid', async () => {
      const session = await start();
      const first = await present(session, session.refreshDigest);
      now += GRACE - 1;
      const sibling = await present(session, session.refreshDigest);
      expect(sibling.result.outcome).toBe('sibling');
      expect(await store.describe(first.issued, GRACE)).toBeDefined();
      expect(await store.describe(sibling.issued, GRACE)).toBeDefined();
      // Rotating one sibling rotates the generation out: the other is then in its own grace.
      expect((await present(session, sibling.issued)).result.outcome).toBe('rotated');
      expect((await present(session, first.issued)).result.outcome).toBe('sibling');
    });

    it('takes a token rotated out longer than the grace ago for reuse and revokes the session atomically', async () => {
      const session = await start();
      const { issued: current } = await present(session, session.refreshDigest);
      now += GRACE;
      const { result } = await present(session, session.refreshDigest);
      expect(result.outcome).toBe('reused');
      if (result.outcome !== 'reused') return;
      // The session's revocation went through the log, in the same script.
      expect(result.event).toMatchObject({ kind: 'session', id: session.sid, seq: 1 });
      const log = await redis.xrange(keys.log, '-', '+');
      expect(log).toHaveLength(1);
      expect(log[0]?.[1]).toEqual(expect.arrayContaining(['kind', 'session', 'id', session.sid]));
      expect(await redis.zscore(keys.index, keys.member('session', session.sid))).toBe(
        String(sessionRevocation(session.sid, now).expiresAtMs),
      );
      expect(await redis.hget(keys.session(session.sid), 'revoked')).toBe(String(now));
      // The current token died with it; the session is no longer listed or described.
      expect((await present(session, current)).result).toEqual({
        outcome: 'invalid',
        reason: 'revoked',
      });
      expect(await store.describe(current, GRACE)).toBeUndefined();
      expect(await store.list('alice')).toEqual([]);
    });

    it('takes a token two generations old for reuse even within the grace', async () => {
      const session = await start();
      const first = await present(session, session.refreshDigest);
      await present(session, first.issued);
      expect((await present(session, session.refreshDigest)).result.outcome).toBe('reused');
    });

    it('with a grace of 0, takes any rotated-out token for reuse at once', async () => {
      const session = await start();
      await present(session, session.refreshDigest, 0);
      expect((await present(session, session.refreshDigest, 0)).result.outcome).toBe('reused');
    });

    it('refuses an expired token without revoking anything', async () => {
      const session = await start('alice', { refreshExpiresAtMs: now + 1000 });
      now += 1000;
      expect((await present(session, session.refreshDigest)).result).toEqual({
        outcome: 'invalid',
        reason: 'expired',
      });
      expect(await redis.exists(keys.record('session', session.sid))).toBe(0);
    });

    it('refuses a token presented under another session or user', async () => {
      const session = await start();
      const other = await start('bob');
      expect(
        (
          await store.rotate(
            rotation(other, session.refreshDigest),
            sessionRevocation(other.sid, now),
            {},
          )
        ).outcome,
      ).toBe('invalid');
      expect(
        (
          await store.rotate(
            { ...rotation(session, session.refreshDigest), sub: 'bob' },
            sessionRevocation(session.sid, now),
            {},
          )
        ).outcome,
      ).toBe('invalid');
    });

    it('refuses the session of a user cut off after it was created (logout-all)', async () => {
      const session = await start();
      now += 5;
      await revocations.revoke(userRevocation('alice', now, LIMITS));
      expect((await present(session, session.refreshDigest)).result).toEqual({
        outcome: 'invalid',
        reason: 'cut-off',
      });
    });

    it('under 20 concurrent presentations of one token, leaves no pair alive after a reuse', async () => {
      const session = await start();
      const results = await Promise.all(
        Array.from({ length: 20 }, () => present(session, session.refreshDigest, 0)),
      );
      const outcomes = results.map(({ result }) => result.outcome);
      // One rotates, the next is reuse and revokes the session, the rest find it revoked.
      expect(outcomes.filter((o) => o === 'rotated')).toHaveLength(1);
      expect(outcomes.filter((o) => o === 'reused')).toHaveLength(1);
      expect(outcomes.filter((o) => o === 'invalid')).toHaveLength(18);
      const winner = results.find(({ result }) => result.outcome === 'rotated');
      expect((await present(session, winner?.issued ?? '')).result.outcome).toBe('invalid');
      // One revocation recorded, however many times reuse was seen.
      expect(await redis.xlen(keys.log)).toBe(1);
    });
  });

  describe('ending one session', () => {
    it('does nothing for another user', async () => {
      const session = await start();
      const result = await store.end(session.sid, 'bob', sessionRevocation(session.sid, now), {});
      expect(result).toEqual({ ended: 0, event: null });
      expect(await redis.exists(keys.record('session', session.sid))).toBe(0);
      expect((await present(session, session.refreshDigest)).result.outcome).toBe('rotated');
    });

    it('for its user, marks it and records its revocation together', async () => {
      const session = await start();
      const result = await store.end(session.sid, 'alice', sessionRevocation(session.sid, now), {
        reason: 'logout',
      });
      expect(result.ended).toBe(1);
      expect(result.event).toMatchObject({ kind: 'session', id: session.sid });
      expect(await redis.hget(keys.session(session.sid), 'revoked')).toBe(String(now));
      expect((await present(session, session.refreshDigest)).result.outcome).toBe('invalid');
      // Ending it again is not ending a live session.
      expect(
        (await store.end(session.sid, 'alice', sessionRevocation(session.sid, now), {})).ended,
      ).toBe(0);
    });

    it('for an administrator, records the revocation even of a session the store does not know', async () => {
      const sid = sidOf();
      const result = await store.end(sid, undefined, sessionRevocation(sid, now), {
        actor: 'admin',
      });
      expect(result.ended).toBe(0);
      expect(result.event).toMatchObject({ kind: 'session', id: sid });
    });

    it('refuses a refresh of a session revoked without its mark (a recorded revocation)', async () => {
      const session = await start();
      await revocations.revoke(sessionRevocation(session.sid, now));
      expect((await present(session, session.refreshDigest)).result).toEqual({
        outcome: 'invalid',
        reason: 'revoked',
      });
      // Marked on the way: still refused once that revocation's record has expired.
      await redis.del(keys.record('session', session.sid));
      expect((await present(session, session.refreshDigest)).result.outcome).toBe('invalid');
    });
  });

  describe('ending every session of a user', () => {
    it('records the cut-off and marks every session, in one script', async () => {
      const a = await start();
      const b = await start();
      const bob = await start('bob');
      const cut = userRevocation('alice', now, LIMITS);
      const result = await store.endAll(cut, { reason: 'logout-all' });
      expect(result.ended).toBe(2);
      expect(result.event).toMatchObject({ kind: 'user', id: 'alice', cutoffMs: cut.cutoffMs });
      for (const session of [a, b]) {
        expect(await redis.hexists(keys.session(session.sid), 'revoked')).toBe(1);
        expect((await present(session, session.refreshDigest)).result.outcome).toBe('invalid');
      }
      expect(await store.list('alice')).toEqual([]);
      expect((await present(bob, bob.refreshDigest)).result.outcome).toBe('rotated');
    });

    it('is one commit point: a session created before the cut-off but after the script is refused too', async () => {
      const cut = userRevocation('alice', now, LIMITS);
      await store.endAll(cut, {});
      const racing = await start('alice', { createdAtMs: cut.cutoffMs });
      expect(await store.list('alice')).toEqual([]);
      expect((await present(racing, racing.refreshDigest)).result).toEqual({
        outcome: 'invalid',
        reason: 'cut-off',
      });
      const later = await start('alice', { createdAtMs: cut.cutoffMs + 1 });
      expect((await store.list('alice')).map((s) => s.sid)).toEqual([later.sid]);
    });
  });

  describe('tidy', () => {
    it('removes expired and ended sessions with their refresh records and index members', async () => {
      const expiring = await start('alice', { refreshExpiresAtMs: now + 60_000 });
      const ended = await start('alice');
      const { issued } = await present(ended, ended.refreshDigest);
      const live = await start('alice');
      await store.end(ended.sid, 'alice', sessionRevocation(ended.sid, now), {});
      now += 60_000;

      let totals = { sessionsRemoved: 0, refreshTokensRemoved: 0 };
      for (let more = true; more;) {
        const batch = await store.tidy(1);
        totals = {
          sessionsRemoved: totals.sessionsRemoved + batch.sessionsRemoved,
          refreshTokensRemoved: totals.refreshTokensRemoved + batch.refreshTokensRemoved,
        };
        more = batch.more;
      }
      expect(totals).toEqual({ sessionsRemoved: 2, refreshTokensRemoved: 3 });
      for (const gone of [
        keys.session(expiring.sid),
        keys.session(ended.sid),
        keys.sessionRefreshTokens(ended.sid),
        keys.refreshToken(expiring.refreshDigest),
        keys.refreshToken(ended.refreshDigest),
        keys.refreshToken(issued),
      ]) {
        expect(await redis.exists(gone)).toBe(0);
      }
      expect(await redis.zrange(keys.sessionsOf('alice'), 0, -1)).toEqual([live.sid]);
      expect(await redis.zrange(keys.sessionExpiries(), 0, -1)).toEqual([`${live.sid}alice`]);
      expect(await store.lookup(live.refreshDigest)).toBeDefined();
      expect(await store.tidy(10)).toEqual({
        sessionsRemoved: 0,
        refreshTokensRemoved: 0,
        more: false,
      });
    });
  });
});
