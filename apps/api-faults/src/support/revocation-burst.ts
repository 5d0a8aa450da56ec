import { randomBytes } from 'node:crypto';
import { MAX_ID_LENGTH } from '@rescind/revocation-core';
import { RedisKeys, RevocationStore } from '@rescind/revocation-redis';
import { Redis } from 'ioredis';

/** How long the burst's revocations live: longer than any scenario. */
const BURST_TTL_MS = 15 * 60_000;

/**
 * Writes revocations straight through {@link RevocationStore} (the code path of a logout: one
 * atomic script records, logs and publishes each), many at a time, with the longest ids the
 * product accepts so that each event is as large as a real one can be. Used to flood the
 * revocation channel far faster than HTTP logins and logouts could.
 */
export class RevocationBurst {
  private readonly redis: Redis;
  private readonly store: RevocationStore;
  private written = 0;

  constructor(redisUrl: string, prefix: string) {
    this.redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
    this.store = new RevocationStore(this.redis, new RedisKeys(prefix));
  }

  /** Revocations written so far. */
  get count(): number {
    return this.written;
  }

  /**
   * Writes `count` token revocations, `inFlight` at a time. Keep `inFlight` small: Redis queues
   * what one event-loop turn publishes in each subscriber's output buffer, so a big pipeline
   * would overflow a tiny `client-output-buffer-limit` of every subscriber, not only a slow one.
   */
  async write(count: number, inFlight = 4): Promise<void> {
    const tag = randomBytes(4).toString('hex');
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < count) {
        const index = next++;
        const now = Date.now();
        await this.store.revoke({
          kind: 'token',
          id: `burst-${tag}-${index}-`.padEnd(MAX_ID_LENGTH, 'x'),
          expiresAtMs: now + BURST_TTL_MS,
          createdAtMs: now,
        });
        this.written++;
      }
    };
    await Promise.all(Array.from({ length: Math.min(inFlight, count) }, lane));
  }

  /** Closes the connection. */
  async close(): Promise<void> {
    await this.redis.quit();
  }
}
