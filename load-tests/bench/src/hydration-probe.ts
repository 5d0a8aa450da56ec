import { RevocationCache, RevocationSynchronizer } from '@rescind/revocation-core';
import { RedisKeys, RevocationStore } from '@rescind/revocation-redis';
import { Redis } from 'ioredis';
import { HYDRATION_PROBE_RESULT, type HydrationProbeResult } from './hydration-probe.protocol';

function heapUsedAfterGc(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with node --expose-gc');
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}

// Hydrates a RevocationCache from Redis exactly as a replica does at start-up (RevocationStore
// snapshot + log catch-up through the RevocationSynchronizer), then weighs the heap.
// Usage: node --expose-gc hydration-probe.js <redisUrl> <keyPrefix> <maxEntries>
async function main(): Promise<void> {
  const [redisUrl = '', keyPrefix = '', maxEntries = '1000000'] = process.argv.slice(2);
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  await redis.ping();
  const store = new RevocationStore(redis, new RedisKeys(keyPrefix));
  const baseline = heapUsedAfterGc();

  const cache = new RevocationCache({ maxEntries: Number(maxEntries) });
  const sync = new RevocationSynchronizer(cache, store);
  const empty = heapUsedAfterGc();

  const startedAt = performance.now();
  await sync.sync('startup');
  const hydrateMs = performance.now() - startedAt;
  if (!sync.hydrated) throw new Error('the synchroniser did not hydrate');
  const hydrated = heapUsedAfterGc();

  const result: HydrationProbeResult = {
    entries: cache.size,
    hydrateMs,
    heapBaselineBytes: baseline,
    emptyCacheBytes: empty - baseline,
    cacheBytes: hydrated - baseline,
  };
  console.log(HYDRATION_PROBE_RESULT + JSON.stringify(result));
  // Keep the cache reachable until after the measurement.
  if (cache.size < 0) console.log(sync.state);
  redis.disconnect();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
