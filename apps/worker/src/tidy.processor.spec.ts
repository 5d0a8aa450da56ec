import { randomBytes } from 'node:crypto';
import { RedisKeys, RevocationStore, SessionStore } from '@rescind/revocation-redis';
import { Redis } from 'ioredis';
import { TidyProcessor } from './tidy.processor';

const prefix = `tidy${process.pid}x${Date.now()}`;

describe('TidyProcessor', () => {
  const redis = new Redis('redis://127.0.0.1:6379');
  const keys = new RedisKeys(prefix);
  let now = Date.now();
  const store = new RevocationStore(redis, keys, { clock: { now: () => now } });

  afterAll(async () => {
    const found = await redis.keys(`${prefix}:*`);
    if (found.length > 0) await redis.del(...found);
    await redis.quit();
  });

  describe('when many revocations have expired', () => {
    it('removes them in bounded batches and keeps the live ones', async () => {
      const start = Date.now();
      for (let i = 0; i < 120; i++) {
        await store.revoke({
          kind: 'token',
          id: `expiring-${i}`,
          expiresAtMs: start + 60_000,
          createdAtMs: start,
        });
      }
      await store.revoke({
        kind: 'token',
        id: 'live',
        expiresAtMs: start + 3_600_000,
        createdAtMs: start,
      });
      now = start + 120_000; // the first 120 have expired, `live` has not
      const totals = await new TidyProcessor(store, 25).run();

      expect(totals.indexRemoved).toBe(120);
      expect(totals.logTrimmed).toBe(120);
      expect(totals.batches).toBeGreaterThan(4);
      expect(await redis.zrange(keys.index, 0, -1)).toEqual(['t:live']);
      expect(await redis.xlen(keys.log)).toBe(1);
    });

    it('is idempotent: a second run finds nothing to do', async () => {
      const totals = await new TidyProcessor(store, 25).run();
      expect(totals).toEqual({
        indexRemoved: 0,
        logTrimmed: 0,
        batches: 1,
        sessionsRemoved: 0,
        refreshTokensRemoved: 0,
      });
    });
  });

  describe('given the session store', () => {
    it('removes expired sessions and their refresh token records too', async () => {
      const sessions = new SessionStore(redis, keys, { clock: { now: () => now } });
      const sid = randomBytes(16).toString('base64url');
      const digest = randomBytes(32).toString('base64url');
      await sessions.create({
        sid,
        sub: 'ann',
        createdAtMs: now,
        refreshDigest: digest,
        refreshExpiresAtMs: now + 60_000,
      });
      now += 60_000;
      const totals = await new TidyProcessor(store, 25, 1000, sessions).run();
      expect(totals).toMatchObject({ sessionsRemoved: 1, refreshTokensRemoved: 1 });
      expect(await redis.exists(keys.session(sid), keys.refreshToken(digest))).toBe(0);
      expect(await redis.zcard(keys.sessionsOf('ann'))).toBe(0);
    });
  });
});
