import { Redis } from 'ioredis';

/** The shared Redis the integration specs run against (no persistence, shared by every suite). */
export const TEST_REDIS_URL = 'redis://127.0.0.1:6379';

let counter = 0;

/** A `KEY_PREFIX` no other test, file or concurrent run uses. */
export function uniqueKeyPrefix(): string {
  counter += 1;
  return `nest${process.pid}x${Date.now()}x${counter}`;
}

/** Deletes every key under `prefix` (`SCAN MATCH` + `UNLINK`), so tests leave the shared Redis clean. */
export async function deleteKeysWithPrefix(prefix: string, url = TEST_REDIS_URL): Promise<number> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  let deleted = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) deleted += await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    await redis.quit();
  }
  return deleted;
}
