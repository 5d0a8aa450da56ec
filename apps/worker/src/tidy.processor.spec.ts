import { RedisKeys, RevocationStore } from '@rescind/revocation-redis';
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
      expect(totals).toEqual({ indexRemoved: 0, logTrimmed: 0, batches: 1 });
    });
  });
});
