import { randomBytes } from 'node:crypto';
import { type Revocation } from '@rescind/revocation-core';
import { EventCodec, RedisKeys, RevocationStore } from '@rescind/revocation-redis';
import { Redis } from 'ioredis';
import { respCommand, type RespChunk, sendPipelined } from './resp-pipeline';

/** How the revocations get into Redis. */
export type LoadMethod =
  /** `RevocationStore.revoke`: the product's Lua script (record, index, log, seq, publish). */
  | 'store'
  /** Pipelined `SET PX` + `ZADD` in the store's formats: a snapshot without log entries. */
  | 'direct';

/** Options of {@link loadRevocations}. */
export interface LoadRevocationsOptions {
  redisUrl: string;
  keyPrefix: string;
  count: number;
  /** When the revoked tokens expire; must outlast the run. */
  expiresAtMs: number;
  method: LoadMethod;
  /**
   * With `direct`, write a mix of kinds like a deployment with sessions holds: of every ten,
   * seven tokens, two sessions and one user cut-off (whose cut-off the replica must read from
   * its record). Otherwise tokens only.
   * @default false
   */
  mixed?: boolean;
}

/** Revocations in flight at once with the `store` method, and per write with `direct`. */
const BATCH = 5_000;

/** A random `jti` shaped like the ones `TokenService` issues (128 bits, base64url). */
export function randomJti(): string {
  return randomBytes(16).toString('base64url');
}

/** `count` random `jti`s from one draw of randomness. */
function randomJtis(count: number): string[] {
  const pool = randomBytes(16 * count);
  return Array.from({ length: count }, (_, i) => pool.toString('base64url', i * 16, i * 16 + 16));
}

/**
 * Writes `count` live token revocations, then checks that the index holds them. Replicas started
 * afterwards hydrate them; replicas already running receive the `store` ones by pub/sub.
 * @returns how long the load took, in ms
 */
export async function loadRevocations(options: LoadRevocationsOptions): Promise<number> {
  const { redisUrl, keyPrefix, count, expiresAtMs, method, mixed = false } = options;
  const keys = new RedisKeys(keyPrefix);
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  const startedAt = performance.now();
  try {
    const before = await redis.zcard(keys.index);
    if (method === 'store') await loadThroughStore(redis, keys, count, expiresAtMs);
    else
      await sendPipelined(
        Number(new URL(redisUrl).port),
        directChunks(keys, count, expiresAtMs, mixed),
      );
    const added = (await redis.zcard(keys.index)) - before;
    if (added !== count) throw new Error(`loaded ${added} revocations instead of ${count}`);
  } finally {
    redis.disconnect();
  }
  return performance.now() - startedAt;
}

async function loadThroughStore(
  redis: Redis,
  keys: RedisKeys,
  count: number,
  expiresAtMs: number,
): Promise<void> {
  const store = new RevocationStore(redis, keys);
  for (let done = 0; done < count; done += BATCH) {
    const createdAtMs = Date.now();
    const batch = randomJtis(Math.min(BATCH, count - done)).map((id): Revocation => ({
      kind: 'token',
      id,
      expiresAtMs,
      createdAtMs,
    }));
    await Promise.all(batch.map((revocation) => store.revoke(revocation, { reason: 'bench' })));
  }
}

/** The kind of the `i`-th revocation of a mixed load: 7 tokens, 2 sessions, 1 user per 10. */
function mixedKind(i: number): Revocation['kind'] {
  const slot = i % 10;
  return slot < 7 ? 'token' : slot < 9 ? 'session' : 'user';
}

/**
 * The record and the index member of each revocation, exactly as the revoke script
 * (`libs/revocation-redis/src/lib/commands/includes/recordRevocation.lua`) writes them: the
 * record is the codec's JSON of the revocation with its reason (a token's spelled out here for
 * speed).
 */
function* directChunks(
  keys: RedisKeys,
  count: number,
  expiresAtMs: number,
  mixed: boolean,
): Generator<RespChunk> {
  const createdAtMs = Date.now();
  const ttlMs = String(expiresAtMs - createdAtMs);
  const score = String(expiresAtMs);
  for (let done = 0; done < count; done += BATCH) {
    let text = '';
    const ids = randomJtis(Math.min(BATCH, count - done));
    const zadd = ['ZADD', keys.index, 'GT'];
    ids.forEach((id, i) => {
      const kind = mixed ? mixedKind(done + i) : 'token';
      const record =
        kind === 'token'
          ? `{"kind":"token","id":"${id}","expiresAtMs":${expiresAtMs},"createdAtMs":${createdAtMs},"reason":"bench"}`
          : EventCodec.record({
              ...(kind === 'user'
                ? { kind, id, cutoffMs: createdAtMs, expiresAtMs, createdAtMs }
                : { kind, id, expiresAtMs, createdAtMs }),
              reason: 'bench',
            });
      text += respCommand(['SET', keys.record(kind, id), record, 'PX', ttlMs]);
      zadd.push(score, keys.member(kind, id));
    });
    text += respCommand(zadd);
    yield { text, commands: ids.length + 1 };
  }
}
