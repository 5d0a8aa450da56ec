import {
  type SessionRevocation,
  type TokenRevocation,
  type UserRevocation,
} from '@rescind/revocation-core';
import { Redis } from 'ioredis';
import { RedisKeys } from '../lib/redis-keys';

/** The Redis the integration specs share (other suites may use it at the same time). */
export const REDIS_URL = 'redis://127.0.0.1:6379';
export const HOUR = 3_600_000;

let counter = 0;

/** A key prefix no other test (or test run) uses. */
export function uniquePrefix(): string {
  return `t${process.pid}x${Date.now()}x${++counter}`;
}

/** A new connection to the shared Redis; the caller quits it. */
export function connectRedis(): Redis {
  return new Redis(REDIS_URL);
}

/** Keys under a prefix of their own, so that a test sees only what it wrote. */
export function freshKeys(): RedisKeys {
  return new RedisKeys(uniquePrefix());
}

/** Every key matching `pattern`, by SCAN. */
export async function keysUnder(redis: Redis, pattern: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    found.push(...keys);
  } while (cursor !== '0');
  return found;
}

/** Deletes every key under `prefix`. */
export async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  const keys = await keysUnder(redis, `${prefix}:*`);
  for (let i = 0; i < keys.length; i += 1000) await redis.del(...keys.slice(i, i + 1000));
}

/** Polls a condition; integration tests wait on conditions, never on fixed sleeps. */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 5_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A token revocation made now, for a token living `lifetimeMs` more. */
export function token(id: string, lifetimeMs = HOUR): TokenRevocation {
  const now = Date.now();
  return { kind: 'token', id, expiresAtMs: now + lifetimeMs, createdAtMs: now };
}

/** A cut-off of `id` at `cutoffMs`, lasting `lifetimeMs` more. */
export function user(id: string, cutoffMs: number, lifetimeMs = HOUR): UserRevocation {
  return {
    kind: 'user',
    id,
    cutoffMs,
    expiresAtMs: Date.now() + lifetimeMs,
    createdAtMs: cutoffMs,
  };
}

/** The end of session `id` made now, lasting `lifetimeMs` more. */
export function session(id: string, lifetimeMs = HOUR): SessionRevocation {
  const now = Date.now();
  return { kind: 'session', id, expiresAtMs: now + lifetimeMs, createdAtMs: now };
}

/** One suite's connection to the shared Redis and the keys its tests wrote. */
export interface SharedRedisSuite {
  /** The suite's connection (from `beforeAll` on). */
  readonly redis: Redis;
  /** Keys under a prefix of their own, deleted by the suite's clean-up. */
  keys(): RedisKeys;
}

/**
 * Registers, in the calling `describe` block, one connection to the shared Redis (opened before
 * its tests, quit after them) and the deletion of every key written under {@link
 * SharedRedisSuite.keys}: after each test (`'each'`, the default) or once after the block (`'all'`).
 */
export function sharedRedisSuite(clean: 'each' | 'all' = 'each'): SharedRedisSuite {
  let connection: Redis | undefined;
  const prefixes: string[] = [];
  const deleteWritten = async (): Promise<void> => {
    if (connection === undefined) return;
    for (const prefix of prefixes.splice(0)) await deleteKeys(connection, prefix);
  };
  beforeAll(() => {
    connection = connectRedis();
  });
  if (clean === 'each') afterEach(deleteWritten);
  afterAll(async () => {
    await deleteWritten();
    await connection?.quit();
  });
  return {
    get redis(): Redis {
      if (connection === undefined)
        throw new Error('sharedRedisSuite: the connection opens in beforeAll');
      return connection;
    },
    keys(): RedisKeys {
      const keys = freshKeys();
      prefixes.push(keys.prefix);
      return keys;
    },
  };
}
