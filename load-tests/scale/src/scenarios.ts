import { RedisKeys, type RevocationStore } from '@rescind/revocation-redis';
import { waitFor } from '@rescind/testing';
import { type Redis } from 'ioredis';
import { LatencyHistogram, type LatencyPercentiles } from './latency-histogram';
import {
  OutputBufferWatch,
  type RedisSample,
  type RedisUsage,
  sampleRedis,
  usageBetween,
} from './redis-probe';
import { seedRevocations, writeRevocations } from './revocation-writer';
import { type PoolStatus, WorkerPool } from './worker-pool';

/** Everything a scenario needs: the run's own Redis and how to reach it. */
export interface ScaleContext {
  readonly redisUrl: string;
  /** A connection of the harness (probes, seeding, `CLIENT KILL`), never a replica's. */
  readonly admin: Redis;
  readonly workers: number;
  readonly log: (line: string) => void;
}

/**
 * How long after the last write every replica must have applied everything, or it counts as
 * lost: 30 s (six times the staleness bound), plus 50 µs per delivery, so that a cell whose
 * deliveries outrun the simulator's own CPU is not mistaken for one that lost messages.
 */
function settleTimeoutMs(deliveries: number): number {
  return 30_000 + deliveries * 0.05;
}
const STATUS_POLL_MS = 20;

/** The figures of one cell of the matrix (replicas × revocations/s). */
export interface FanOutCell {
  readonly replicas: number;
  readonly rate: number;
  readonly seconds: number;
  readonly written: number;
  readonly failedWrites: number;
  readonly achievedRate: number;
  /**
   * Revocation written → applied on a replica (or received by a wire subscriber), over every
   * (revocation, replica) pair.
   */
  readonly fanOut: LatencyPercentiles;
  /** Full replicas of the pool; the others were wire subscribers (README, "Wire subscribers"). */
  readonly fullReplicas: number;
  /** The same, over the full replicas only and over the wire subscribers only (mixed pools). */
  readonly fanOutFull: LatencyPercentiles;
  readonly fanOutWire: LatencyPercentiles;
  /** Latency of the atomic write itself. */
  readonly revokeP99Ms: number | null;
  /** (revocation, replica) pairs never applied within the settle timeout. */
  readonly lost: number;
  readonly settleMs: number;
  readonly redis: RedisUsage;
  /** Redis CPU per delivered message (µs) and network bytes per revocation. */
  readonly redisCpuUsPerDelivery: number;
  readonly bytesPerRevocation: number;
  readonly peakOutputBufferBytes: number;
  readonly peakPubsubOmemBytes: number;
  /** Subscriber connections that closed during the cell (none was closed on purpose). */
  readonly subscriberDisconnects: number;
  /** Cores' worth of CPU the replica workers used. */
  readonly simulatorCores: number;
  /** Their CPU per delivery, µs (with full replicas only: what one replica spends a message). */
  readonly simulatorCpuUsPerDelivery: number;
  /** The workers' largest event-loop delay p99 (ms): a simulator that lags delays fan-out too. */
  readonly simulatorLoopDelayP99Ms: number;
}

export async function startPool(
  context: ScaleContext,
  replicas: number,
  keyPrefix: string,
  cacheMaxEntries: number,
  fullReplicas = replicas,
): Promise<{ pool: WorkerPool; readyMs: number }> {
  const startedAt = performance.now();
  const pool = await WorkerPool.start({
    workers: context.workers,
    replicas,
    redisUrl: context.redisUrl,
    keyPrefix,
    cacheMaxEntries,
    fullReplicas: Math.min(fullReplicas, replicas),
  });
  try {
    await waitFor(async () => (await pool.status()).ready === replicas, {
      timeoutMs: 600_000,
      intervalMs: 25,
      description: `${replicas} simulated replicas to be ready`,
    });
  } catch (error) {
    pool.kill();
    throw error;
  }
  return { pool, readyMs: performance.now() - startedAt };
}

/** Waits until every replica applied `expected` revocations of the cell, or the timeout. */
async function settle(
  pool: WorkerPool,
  expected: number,
  timeoutMs = settleTimeoutMs(expected * pool.replicas),
): Promise<{ status: PoolStatus; settleMs: number }> {
  const startedAt = performance.now();
  let status = await pool.status();
  while (status.minApplied < expected && performance.now() - startedAt < timeoutMs) {
    await new Promise((resolve) => setTimeout(resolve, STATUS_POLL_MS));
    status = await pool.status();
  }
  return { status, settleMs: performance.now() - startedAt };
}

async function mergedHistogram(pool: WorkerPool): Promise<{
  histogram: LatencyHistogram;
  full: LatencyHistogram;
  wire: LatencyHistogram;
  status: PoolStatus;
}> {
  const collections = await pool.collect();
  const histogram = new LatencyHistogram();
  const full = new LatencyHistogram();
  const wire = new LatencyHistogram();
  for (const collection of collections) {
    histogram.merge(collection.fullHistogram);
    histogram.merge(collection.wireHistogram);
    full.merge(collection.fullHistogram);
    wire.merge(collection.wireHistogram);
  }
  return { histogram, full, wire, status: (await pool.status()) as PoolStatus };
}

/** One cell: `rate` revocations/s for `seconds` through the store, fanned out to the pool. */
export async function runFanOutCell(
  context: ScaleContext,
  pool: WorkerPool,
  store: RevocationStore,
  rate: number,
  seconds: number,
): Promise<FanOutCell> {
  const idPrefix = `c${pool.replicas}x${rate}-`;
  await pool.cell(idPrefix);
  const closesBefore = (await pool.status()).subscriberCloses;
  const watch = new OutputBufferWatch(context.admin);
  const before = await sampleRedis(context.admin);
  watch.start();
  const run = await writeRevocations(store, { rate, seconds, idPrefix });
  const { settleMs } = await settle(pool, run.written);
  watch.stop();
  const after = await sampleRedis(context.admin);
  const { histogram, full, wire, status } = await mergedHistogram(pool);
  const redis = usageBetween(before, after);
  const deliveries = run.written * pool.replicas;
  return {
    replicas: pool.replicas,
    rate,
    seconds: run.seconds,
    written: run.written,
    failedWrites: run.failed,
    achievedRate: run.written / run.seconds,
    fanOut: histogram.percentiles(),
    fullReplicas: status.fullReplicas,
    fanOutFull: full.percentiles(),
    fanOutWire: wire.percentiles(),
    revokeP99Ms: run.revoke.quantile(0.99),
    lost: deliveries - status.applied,
    settleMs,
    redis,
    redisCpuUsPerDelivery: deliveries > 0 ? (redis.cpuSeconds * 1e6) / deliveries : 0,
    bytesPerRevocation: run.written > 0 ? redis.netOutputBytes / run.written : 0,
    peakOutputBufferBytes: watch.peakRecentMax,
    peakPubsubOmemBytes: watch.peakPubsubOmem,
    subscriberDisconnects: status.subscriberCloses - closesBefore,
    simulatorCores: status.cpuMs / 1000 / redis.seconds,
    simulatorCpuUsPerDelivery: deliveries > 0 ? (status.cpuMs * 1000) / deliveries : 0,
    simulatorLoopDelayP99Ms: status.eventLoopDelayP99Ms,
  };
}

/** The figures of one reconnect storm. */
export interface ReconnectStorm {
  readonly replicas: number;
  readonly rate: number;
  /** Subscriber connections `CLIENT KILL TYPE pubsub` closed. */
  readonly killed: number;
  /** Kill → every replica re-subscribed, caught up, and past the log head of the kill. */
  readonly timeToSyncMs: number;
  /** Kill → every replica's subscription live again (before its catch-up is done). */
  readonly timeToSubscribedMs: number;
  /** Redis CPU (cores) from the kill until all were in sync. */
  readonly redisCoresDuringStorm: number;
  readonly redisCpuSecondsDuringStorm: number;
  readonly commandsDuringStorm: number;
  readonly fanOut: LatencyPercentiles;
  readonly written: number;
  readonly lost: number;
}

/**
 * Revocations keep flowing at `rate` while every subscriber connection is killed at once
 * (`CLIENT KILL TYPE pubsub`); measures how long until all replicas are in sync again.
 */
export async function runReconnectStorm(
  context: ScaleContext,
  pool: WorkerPool,
  store: RevocationStore,
  keys: RedisKeys,
  rate: number,
  seconds: number,
): Promise<ReconnectStorm> {
  const idPrefix = `storm${pool.replicas}-`;
  await pool.cell(idPrefix);
  let killAt: Promise<{ killed: number; headSeq: number; before: RedisSample }> | undefined;
  const killAfterMs = (seconds * 1000) / 4;
  const writing = writeRevocations(store, { rate, seconds, idPrefix }, (_written, elapsedMs) => {
    if (killAt !== undefined || elapsedMs < killAfterMs) return;
    killAt = (async () => {
      const before = await sampleRedis(context.admin);
      const killed = Number(await context.admin.client('KILL', 'TYPE', 'pubsub'));
      const headSeq = Number((await context.admin.get(keys.seq)) ?? 0);
      return { killed, headSeq, before };
    })();
  });
  while (killAt === undefined) await new Promise((resolve) => setTimeout(resolve, 5));
  const { killed, headSeq, before } = await killAt;
  let status = await pool.status();
  let subscribedAt: number | undefined;
  while (!(status.inSync === pool.replicas && status.minSeq >= headSeq)) {
    if (subscribedAt === undefined && status.subscribed === pool.replicas) {
      subscribedAt = performance.now();
    }
    if (performance.now() - before.atMs > 120_000) {
      throw new Error(`reconnect storm of ${pool.replicas}: not in sync after 120 s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
    status = await pool.status();
  }
  const synced = await sampleRedis(context.admin);
  const run = await writing;
  await settle(pool, run.written);
  const { histogram, status: end } = await mergedHistogram(pool);
  const storm = usageBetween(before, synced);
  return {
    replicas: pool.replicas,
    rate,
    killed,
    timeToSyncMs: synced.atMs - before.atMs,
    timeToSubscribedMs: (subscribedAt ?? synced.atMs) - before.atMs,
    redisCoresDuringStorm: storm.cores,
    redisCpuSecondsDuringStorm: storm.cpuSeconds,
    commandsDuringStorm: storm.commands,
    fanOut: histogram.percentiles(),
    written: run.written,
    lost: run.written * pool.replicas - end.applied,
  };
}

/** The figures of the cold-start storm. */
export interface ColdStartStorm {
  readonly replicas: number;
  readonly revocations: number;
  readonly seedSeconds: number;
  /** Every replica started at once → all ready (hydrated, subscribed, caught up). */
  readonly allReadyMs: number;
  readonly redisCpuSeconds: number;
  readonly redisCores: number;
  readonly netOutputBytes: number;
  readonly bytesPerReplica: number;
  readonly redisUsedMemoryBytes: number;
  readonly workerHeapBytes: number;
  readonly maxCacheSize: number;
}

/** Every replica starts at once against a store holding `revocations` live revocations. */
export async function runColdStartStorm(
  context: ScaleContext,
  replicas: number,
  revocations: number,
): Promise<ColdStartStorm> {
  const keys = new RedisKeys('scale-cold');
  const seededAt = performance.now();
  await seedRevocations(context.admin, keys, revocations);
  const seedSeconds = (performance.now() - seededAt) / 1000;
  context.log(`  seeded ${revocations} revocations in ${seedSeconds.toFixed(1)} s`);
  const before = await sampleRedis(context.admin);
  const { pool, readyMs } = await startPool(context, replicas, keys.prefix, revocations + 10_000);
  const after = await sampleRedis(context.admin);
  try {
    const status = await pool.status();
    if (status.maxCacheSize < revocations) {
      throw new Error(`a replica holds ${status.maxCacheSize} of ${revocations} revocations`);
    }
    const usage = usageBetween(before, after);
    return {
      replicas,
      revocations,
      seedSeconds,
      allReadyMs: readyMs,
      redisCpuSeconds: usage.cpuSeconds,
      redisCores: usage.cores,
      netOutputBytes: usage.netOutputBytes,
      bytesPerReplica: usage.netOutputBytes / replicas,
      redisUsedMemoryBytes: after.usedMemoryBytes,
      workerHeapBytes: status.heapUsedBytes,
      maxCacheSize: status.maxCacheSize,
    };
  } finally {
    await pool.stop();
    await context.admin.del(keys.index);
  }
}
