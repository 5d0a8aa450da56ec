import { StoreUnavailableError } from '@rescind/revocation-core';
import { type RedisClient } from '@rescind/revocation-redis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';

/** How long a key's blocks are remembered, and the longest block: a day. */
export const BACKOFF_MEMORY_SECONDS = 86_400;

/** Options of a {@link BackoffLimiter}. */
export interface BackoffLimiterOptions {
  /** Redis key prefix of the counters; the offences live under `<keyPrefix>:offences`. */
  readonly keyPrefix: string;
  /** Points a key may take per window. */
  readonly points: number;
  /** The window, also the first block. */
  readonly windowMs: number;
  /** Block again, twice as long each time, when the key goes over the limit again. @default true */
  readonly backoff?: boolean;
}

/** Whole seconds, at least one: `rate-limiter-flexible` counts windows and blocks in seconds. */
function seconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

/** Seconds to wait, at least one, from a rejection's `msBeforeNext`. */
function retryAfter(rejection: RateLimiterRes): number {
  return seconds(rejection.msBeforeNext);
}

/**
 * A fixed-window counter in Redis (`RateLimiterRedis`: increment and expiry in one script, so
 * concurrent takes never overshoot), shared by every replica, that blocks a key once over its limit
 * for the window, then for twice as long each further time within {@link BACKOFF_MEMORY_SECONDS}.
 * While Redis cannot answer, each replica counts in memory instead (`insuranceLimiter`), so that an
 * outage does not lift the limits.
 */
export class BackoffLimiter {
  private readonly counter: RateLimiterRedis;
  private readonly offences: RateLimiterRedis | undefined;
  private readonly windowSeconds: number;

  constructor(
    redis: RedisClient,
    private readonly options: BackoffLimiterOptions,
  ) {
    this.windowSeconds = seconds(options.windowMs);
    const limits = { points: options.points, duration: this.windowSeconds };
    this.counter = new RateLimiterRedis({
      ...limits,
      storeClient: redis,
      keyPrefix: options.keyPrefix,
      rejectIfRedisNotReady: true,
      insuranceLimiter: new RateLimiterMemory(limits),
    });
    if (options.backoff !== false) {
      const memory = { points: 1, duration: BACKOFF_MEMORY_SECONDS };
      this.offences = new RateLimiterRedis({
        ...memory,
        storeClient: redis,
        keyPrefix: `${options.keyPrefix}:offences`,
        rejectIfRedisNotReady: true,
        insuranceLimiter: new RateLimiterMemory(memory),
      });
    }
  }

  /**
   * Takes one point, atomically with the check.
   * @returns 0 when taken, else the seconds until `key` may try again
   * @throws StoreUnavailableError when neither Redis nor the fallback could count
   */
  async take(key: string): Promise<number> {
    try {
      await this.counter.consume(key);
      return 0;
    } catch (error) {
      if (!(error instanceof RateLimiterRes)) throw new StoreUnavailableError(error);
      // Exactly one take crosses the limit (the counter is incremented atomically): it alone
      // records the offence and sets the block, however many run concurrently.
      if (this.offences !== undefined && error.consumedPoints === this.options.points + 1) {
        return this.block(key);
      }
      return retryAfter(error);
    }
  }

  /** Returns a point taken by an attempt that turned out not to count (it succeeded). */
  async giveBack(key: string): Promise<void> {
    await this.call(() => this.counter.reward(key));
  }

  /** Forgets the key's count in this window (not its offences: backoff still applies). */
  async reset(key: string): Promise<void> {
    await this.call(() => this.counter.delete(key));
  }

  private async block(key: string): Promise<number> {
    const offences = await this.call(() => (this.offences as RateLimiterRedis).penalty(key));
    const doublings = Math.min(Math.max(offences.consumedPoints - 1, 0), 20);
    const blockSeconds = Math.min(this.windowSeconds * 2 ** doublings, BACKOFF_MEMORY_SECONDS);
    await this.call(() => this.counter.block(key, blockSeconds));
    return blockSeconds;
  }

  private async call<T>(command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (error) {
      throw new StoreUnavailableError(error);
    }
  }
}
