import { type Revocation } from '@rescind/revocation-core';
import { EventCodec, type RedisKeys, type RevocationStore } from '@rescind/revocation-redis';
import { type Redis } from 'ioredis';
import { LatencyHistogram } from './latency-histogram';

/** Long enough for every revocation of a run to stay live until it is checked. */
const TOKEN_LIFETIME_MS = 15 * 60_000;
/** How often the writer wakes to issue what is due. */
const PACE_MS = 2;
/** Writes in flight at once before the writer waits (the store is then the bottleneck). */
const MAX_IN_FLIGHT = 20_000;

/** What a paced write run did. */
export interface WriteRun {
  readonly written: number;
  readonly seconds: number;
  /** Latency of `RevocationStore.revoke` (the atomic script) as the writer saw it. */
  readonly revoke: LatencyHistogram;
  /** Writes that failed (counted, never retried: a failed write is not a revocation). */
  readonly failed: number;
}

/**
 * Writes token revocations through the store's one atomic write path (`RevocationStore.revoke`:
 * record, index, log, publish) at `rate` per second for `seconds`, each with id
 * `<idPrefix><n>` and `createdAtMs` stamped when it is sent. Paced on the clock, so that a slow
 * moment is caught up by sending what is due rather than by lowering the rate.
 * @param onProgress called after each wake with the count written so far
 */
export async function writeRevocations(
  store: RevocationStore,
  options: { rate: number; seconds: number; idPrefix: string },
  onProgress?: (written: number, elapsedMs: number) => void,
): Promise<WriteRun> {
  const revoke = new LatencyHistogram();
  const total = Math.max(1, Math.round(options.rate * options.seconds));
  const startedAt = performance.now();
  let sent = 0;
  let done = 0;
  let failed = 0;
  const inFlight = new Set<Promise<void>>();
  while (sent < total) {
    const elapsedMs = performance.now() - startedAt;
    const due = Math.min(total, Math.floor((elapsedMs / 1000) * options.rate) + 1);
    while (sent < due && inFlight.size < MAX_IN_FLIGHT) {
      const n = sent++;
      const createdAtMs = Date.now();
      const revocation: Revocation = {
        kind: 'token',
        id: `${options.idPrefix}${n}`,
        expiresAtMs: createdAtMs + TOKEN_LIFETIME_MS,
        createdAtMs,
      };
      const begun = performance.now();
      const write: Promise<void> = store.revoke(revocation, { reason: 'scale' }).then(
        () => {
          revoke.record(performance.now() - begun);
          done++;
        },
        () => {
          failed++;
        },
      );
      inFlight.add(write);
      void write.finally(() => inFlight.delete(write));
    }
    onProgress?.(done, elapsedMs);
    if (inFlight.size >= MAX_IN_FLIGHT) await Promise.race(inFlight);
    else await new Promise((resolve) => setTimeout(resolve, PACE_MS));
  }
  await Promise.all(inFlight);
  return { written: done, seconds: (performance.now() - startedAt) / 1000, revoke, failed };
}

/**
 * Seeds `count` live token revocations fast, in the store's own formats (record `SET PX` with the
 * codec's JSON, index `ZADD` with the revoke script's member), pipelined: a snapshot to hydrate
 * from, without log entries or publications (as a store looks once the worker trimmed its log).
 */
export async function seedRevocations(redis: Redis, keys: RedisKeys, count: number): Promise<void> {
  const batch = 10_000;
  const createdAtMs = Date.now();
  const expiresAtMs = createdAtMs + TOKEN_LIFETIME_MS * 4;
  for (let done = 0; done < count; done += batch) {
    const pipeline = redis.pipeline();
    const zadd: (string | number)[] = [];
    for (let i = done; i < Math.min(count, done + batch); i++) {
      const id = `seed-${i.toString(36)}-${(i * 2654435761) % 4294967296}`;
      const revocation: Revocation = { kind: 'token', id, expiresAtMs, createdAtMs };
      pipeline.set(
        keys.record('token', id),
        EventCodec.record({ ...revocation, reason: 'scale-seed' }),
        'PX',
        expiresAtMs - createdAtMs,
      );
      zadd.push(expiresAtMs, keys.member('token', id));
    }
    pipeline.zadd(keys.index, ...zadd);
    const results = await pipeline.exec();
    const failure = results?.find(([error]) => error !== null);
    if (failure !== undefined) throw failure[0] as Error;
  }
  const held = await redis.zcard(keys.index);
  if (held < count) throw new Error(`seeded ${held} revocations instead of ${count}`);
}
