import { createHash } from 'node:crypto';
import { type RedisClient } from './redis-topology';

/** A Lua script run with EVALSHA, falling back to EVAL when Redis has not cached it yet. */
export class LuaScript {
  /** SHA1 of the body, as Redis names it. */
  readonly sha: string;

  constructor(
    readonly name: string,
    readonly numberOfKeys: number,
    readonly body: string,
  ) {
    this.sha = createHash('sha1').update(body).digest('hex');
  }

  /** Runs the script on `redis`; `keys.length` must equal {@link numberOfKeys}. */
  async run(
    redis: RedisClient,
    keys: readonly string[],
    args: readonly (string | number)[],
  ): Promise<unknown> {
    if (keys.length !== this.numberOfKeys) {
      throw new RangeError(
        `script ${this.name} takes ${this.numberOfKeys} keys, got ${keys.length}`,
      );
    }
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (error instanceof Error && error.message.startsWith('NOSCRIPT')) {
        return redis.eval(this.body, keys.length, ...keys, ...args);
      }
      throw error;
    }
  }
}
