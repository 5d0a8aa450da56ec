import { Inject, Injectable } from '@nestjs/common';
import { type ThrottlerStorage } from '@nestjs/throttler';
import { StoreUnavailableError } from '@rescind/revocation-core';
import { defineLuaCommands, type LuaCommand, type RedisClient } from '@rescind/revocation-redis';
import { REVOCATION_REDIS } from '@rescind/revocation-nest';
import { ApiKeys } from './api-keys';

type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

/**
 * Counts a hit and blocks once over the limit, atomically.
 * KEYS: hits, block. ARGV: ttl ms, limit, block ms.
 * Returns {hits, ms until the window resets, blocked (0/1), ms until the block ends}.
 */
const INCREMENT: LuaCommand = {
  name: 'apiThrottleIncrement',
  numberOfKeys: 2,
  lua: `
local blocked = redis.call('PTTL', KEYS[2])
if blocked > 0 then
  return {tonumber(redis.call('GET', KEYS[1]) or '0'), math.max(redis.call('PTTL', KEYS[1]), 0), 1, blocked}
end
local hits = redis.call('INCR', KEYS[1])
if hits == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = math.max(redis.call('PTTL', KEYS[1]), 0)
if hits > tonumber(ARGV[2]) then
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[3])
  return {hits, ttl, 1, tonumber(ARGV[3])}
end
return {hits, ttl, 0, 0}
`,
};

/** `@nestjs/throttler` storage in Redis, so that every replica counts the same attempts. */
@Injectable()
export class RedisThrottlerStorage implements ThrottlerStorage {
  private readonly run: ReturnType<typeof defineLuaCommands>;

  constructor(
    @Inject(REVOCATION_REDIS) private readonly redis: RedisClient,
    private readonly keys: ApiKeys,
  ) {
    this.run = defineLuaCommands(redis, [INCREMENT]);
  }

  async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerStorageRecord> {
    const [totalHits, msToExpire, blocked, msToBlockExpire] = (await this.call(() =>
      this.run(
        INCREMENT.name,
        [
          this.keys.throttle(throttlerName, key),
          this.keys.throttle(throttlerName, `${key}:blocked`),
        ],
        [ttl, limit, blockDuration],
      ),
    )) as [number, number, number, number];
    return {
      totalHits,
      timeToExpire: Math.ceil(msToExpire / 1000),
      isBlocked: blocked === 1,
      timeToBlockExpire: Math.ceil(msToBlockExpire / 1000),
    };
  }

  /** Seconds until `key` is unblocked, 0 when it is not blocked. */
  async blockedFor(key: string, throttlerName: string): Promise<number> {
    const ms = await this.call(() =>
      this.redis.pttl(this.keys.throttle(throttlerName, `${key}:blocked`)),
    );
    return ms > 0 ? Math.ceil(ms / 1000) : 0;
  }

  private async call<T>(command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (error) {
      throw new StoreUnavailableError(error);
    }
  }
}
