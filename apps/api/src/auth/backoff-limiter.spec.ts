import { Redis } from 'ioredis';
import { deleteKeysWithPrefix, TEST_REDIS_URL, uniqueKeyPrefix, waitFor } from '@rescind/testing';
import { BackoffLimiter } from './backoff-limiter';
import { clientAddress } from './login-throttle';

describe('BackoffLimiter', () => {
  const prefix = uniqueKeyPrefix();
  let redis: Redis;

  beforeAll(async () => {
    redis = new Redis(TEST_REDIS_URL);
    // Ready first: until then the limiter counts in memory (its insurance), not in Redis.
    await redis.ping();
  });

  afterAll(async () => {
    await deleteKeysWithPrefix(prefix);
    redis.disconnect();
  });

  function limiter(name: string, points: number, windowMs: number): BackoffLimiter {
    return new BackoffLimiter(redis, { keyPrefix: `${prefix}:throttle:${name}`, points, windowMs });
  }

  it('lets exactly the limit through when takes race, and tells the rest how long to wait', async () => {
    const limit = limiter('race', 5, 60_000);
    const waits = await Promise.all(Array.from({ length: 40 }, () => limit.take('k')));
    expect(waits.filter((wait) => wait === 0)).toHaveLength(5);
    for (const wait of waits.filter((w) => w > 0)) {
      expect(wait).toBeGreaterThan(0);
      expect(wait).toBeLessThanOrEqual(60);
    }
  });

  it('blocks for the window first, then twice as long each time the key goes over again', async () => {
    const limit = limiter('backoff', 1, 1000);
    expect(await limit.take('k')).toBe(0);
    expect(await limit.take('k')).toBe(1);
    await waitFor(async () => (await limit.take('k')) === 0, {
      timeoutMs: 5_000,
      description: 'the first block to end',
    });
    expect(await limit.take('k')).toBe(2);
    // The block is in Redis, for every replica: its key lives as long as the block.
    const ttl = await redis.pttl(`${prefix}:throttle:backoff:k`);
    expect(ttl).toBeGreaterThan(1000);
    expect(ttl).toBeLessThanOrEqual(2000);
  });

  it('gives a point back and forgets a count, keeping every key under the prefix', async () => {
    const limit = limiter('refund', 2, 60_000);
    expect(await limit.take('k')).toBe(0);
    expect(await limit.take('k')).toBe(0);
    await limit.giveBack('k');
    expect(await limit.take('k')).toBe(0);
    expect(await limit.take('k')).toBeGreaterThan(0);
    await limit.reset('other');
    const keys = await redis.keys(`${prefix}*`);
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.every((key) => key.startsWith(`${prefix}:throttle:`))).toBe(true);
  });
});

describe('BackoffLimiter without Redis', () => {
  it('keeps counting in memory, so that an outage does not lift the limit', async () => {
    // Never connected: the limiter does not wait for Redis, it falls back at once.
    const offline = new Redis({ port: 1, lazyConnect: true, enableOfflineQueue: false });
    const limit = new BackoffLimiter(offline, {
      keyPrefix: 'offline',
      points: 2,
      windowMs: 60_000,
    });
    expect(await limit.take('k')).toBe(0);
    expect(await limit.take('k')).toBe(0);
    expect(await limit.take('k')).toBeGreaterThan(0);
    offline.disconnect();
  });
});

describe('clientAddress', () => {
  it('counts an IPv4-mapped IPv6 address as the IPv4 address it carries', () => {
    expect(clientAddress('::ffff:203.0.113.9')).toBe('203.0.113.9');
    expect(clientAddress('203.0.113.9')).toBe('203.0.113.9');
    expect(clientAddress('2001:db8::1')).toBe('2001:db8::1');
  });
});
