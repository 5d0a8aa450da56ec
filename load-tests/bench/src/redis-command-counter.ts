import { type RedisServer } from '@rescind/testing';

/**
 * Total commands the server has executed (`INFO commandstats`, every `calls=` summed), including
 * those run from Lua scripts. The `INFO` that reads it is not counted in its own reply.
 */
export async function redisCommandsExecuted(redis: RedisServer): Promise<number> {
  const info = await redis.cli('INFO', 'commandstats');
  let total = 0;
  for (const match of info.matchAll(/^cmdstat_[^:]+:calls=(\d+)/gm)) total += Number(match[1]);
  return total;
}

/** Counts commands over a window, minus the counter's own `INFO` calls. */
export class RedisCommandWindow {
  private constructor(
    private readonly redis: RedisServer,
    private readonly before: number,
    private readonly startedAtMs: number,
  ) {}

  /** Opens a window now. */
  static async open(redis: RedisServer): Promise<RedisCommandWindow> {
    return new RedisCommandWindow(redis, await redisCommandsExecuted(redis), Date.now());
  }

  /** Closes the window: commands executed inside it and its length. */
  async close(): Promise<{ commands: number; elapsedMs: number }> {
    const after = await redisCommandsExecuted(this.redis);
    // The opening INFO completed before `before` was sampled, so it is counted in `after`.
    return { commands: after - this.before - 1, elapsedMs: Date.now() - this.startedAtMs };
  }
}
