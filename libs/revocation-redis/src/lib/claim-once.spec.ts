import { type Redis } from 'ioredis';
import { connectRedis, deleteKeys, freshKeys, keysUnder } from '../testing/store-fixtures';
import { RevocationStore } from './revocation-store';

describe('RevocationStore.claimOnce (against a real Redis)', () => {
  let redis: Redis;
  const keys = freshKeys();
  let store: RevocationStore;

  beforeAll(() => {
    redis = connectRedis();
    store = new RevocationStore(redis, keys);
  });

  afterAll(async () => {
    await deleteKeys(redis, keys.prefix);
    await redis.quit();
  });

  it('is true once per scope and id, from any connection', async () => {
    const otherConnection = connectRedis();
    const other = new RevocationStore(otherConnection, keys);
    expect(await store.claimOnce('logout', 'jti-1', 60_000)).toBe(true);
    expect(await other.claimOnce('logout', 'jti-1', 60_000)).toBe(false);
    expect(await store.claimOnce('ssf', 'jti-1', 60_000)).toBe(true);
    expect(await store.claimOnce('logout', 'jti-2', 60_000)).toBe(true);
    const claims = await Promise.all(
      Array.from({ length: 20 }, () => other.claimOnce('race', 'same', 60_000)),
    );
    expect(claims.filter(Boolean)).toHaveLength(1);
    await otherConnection.quit();
  });

  it('stores a digest of the id, never the id, and lets it expire', async () => {
    const id = 'a-secret-looking-id-'.repeat(20);
    expect(await store.claimOnce('digest', id, 60_000)).toBe(true);
    const held = await keysUnder(redis, `${keys.prefix}:seen:digest:*`);
    expect(held).toHaveLength(1);
    expect(held[0]).not.toContain('a-secret');
    expect(held[0]!.length).toBeLessThan(keys.prefix.length + 64);
    const ttl = await redis.pttl(held[0]!);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it('can be given back, after which the next claim is the first again', async () => {
    expect(await store.claimOnce('release', 'jti-r', 60_000)).toBe(true);
    expect(await store.claimOnce('release', 'jti-r', 60_000)).toBe(false);
    await store.releaseClaim('release', 'jti-r');
    expect(await store.claimOnce('release', 'jti-r', 60_000)).toBe(true);
    await expect(store.releaseClaim('a:b', 'x')).rejects.toThrow(RangeError);
  });

  it('refuses a scope that could name another key', async () => {
    await expect(store.claimOnce('a:b', 'x', 1000)).rejects.toThrow(RangeError);
    await expect(store.claimOnce('', 'x', 1000)).rejects.toThrow(RangeError);
  });
});
