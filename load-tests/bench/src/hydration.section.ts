import * as path from 'node:path';
import { ManagedProcess } from '@rescind/testing';
import { type BenchEnvironment, startApiReplica } from './bench-environment';
import { HYDRATION_PROBE_RESULT, type HydrationProbeResult } from './hydration-probe.protocol';
import { processRssBytes } from './process-cpu';
import { loadRevocations } from './revocation-loader';
import { formatFixed, formatInt } from './stats';

/** Hydration figures for one size. */
export interface HydrationMeasurement {
  readonly entries: number;
  readonly loadMs: number;
  /** In-process: `RevocationSynchronizer` hydrating a `RevocationCache` from Redis. */
  readonly probe: HydrationProbeResult;
  /** Heap per entry, empty-cache preallocation included. */
  readonly bytesPerEntry: number;
  /** Heap per entry, preallocation excluded. */
  readonly marginalBytesPerEntry: number;
  /** Real replica: process spawned → `/health/ready` 200. */
  readonly spawnToReadyMs: number;
  /** Real replica: first `/health/live` 200 (listening) → `/health/ready` 200. */
  readonly listeningToReadyMs: number;
  /** `rescind_cache_entries` of the replica once ready. */
  readonly replicaCacheEntries: number;
  readonly replicaRssBytes: number;
}

/** Cache bound of the replicas and the probe: `REVOCATION_CACHE_MAX`'s default. */
const CACHE_MAX = 1_000_000;

/** Time to ready and heap per entry, for each configured number of live revocations. */
export async function runHydrationSection(
  bench: BenchEnvironment,
): Promise<HydrationMeasurement[]> {
  console.log(
    `\n== Hydration: ${bench.options.hydrationSizes.map(formatInt).join(' and ')} live revocations (REVOCATION_CACHE_MAX=${formatInt(CACHE_MAX)})`,
  );
  const results: HydrationMeasurement[] = [];
  for (const entries of bench.options.hydrationSizes) {
    const keyPrefix = `${bench.keyPrefix}-h${entries}`;
    const loadMs = await loadRevocations({
      redisUrl: bench.redis.url,
      keyPrefix,
      count: entries,
      expiresAtMs: Date.now() + 2 * 3600_000,
      method: 'direct',
      mixed: true,
    });
    const probe = await runProbe(bench, keyPrefix);
    const replica = await measureReplica(bench, keyPrefix, entries);
    const measurement: HydrationMeasurement = {
      entries,
      loadMs,
      probe,
      bytesPerEntry: probe.cacheBytes / probe.entries,
      marginalBytesPerEntry: (probe.cacheBytes - probe.emptyCacheBytes) / probe.entries,
      ...replica,
    };
    results.push(measurement);
    console.log(
      `   ${formatInt(entries).padStart(9)} revocations (loaded in ${formatFixed(loadMs / 1000, 1)} s, 70% tokens, 20% sessions, 10% user cut-offs, SET PX + ZADD in the store's formats)`,
    );
    console.log(
      `     in-process  hydrate ${formatFixed(probe.hydrateMs, 0)} ms, ${formatInt(probe.entries)} entries; heap ${formatFixed(probe.cacheBytes / 2 ** 20, 1)} MiB = ${formatFixed(measurement.bytesPerEntry, 1)} B/entry (${formatFixed(measurement.marginalBytesPerEntry, 1)} B/entry beyond the empty cache's ${formatFixed(probe.emptyCacheBytes / 2 ** 20, 1)} MiB preallocation)`,
    );
    console.log(
      `     replica     ready ${formatFixed(replica.spawnToReadyMs, 0)} ms after spawn, ${formatFixed(replica.listeningToReadyMs, 0)} ms after it first answered /health/live; rescind_cache_entries ${formatInt(replica.replicaCacheEntries)}; RSS ${formatFixed(replica.replicaRssBytes / 2 ** 20, 0)} MiB`,
    );
  }
  return results;
}

async function runProbe(bench: BenchEnvironment, keyPrefix: string): Promise<HydrationProbeResult> {
  const probe = await ManagedProcess.spawn(
    process.execPath,
    [
      '--expose-gc',
      path.join(__dirname, 'hydration-probe.js'),
      bench.redis.url,
      keyPrefix,
      String(CACHE_MAX),
    ],
    { name: 'hydration-probe' },
  );
  const remove = bench.cleanup.add('hydration probe', () => probe.kill());
  try {
    const line = await probe.waitForLine(new RegExp(`^${HYDRATION_PROBE_RESULT}`), 120_000);
    return JSON.parse(line.input.slice(HYDRATION_PROBE_RESULT.length)) as HydrationProbeResult;
  } finally {
    await probe.stop('SIGTERM', 5_000);
    remove();
  }
}

async function measureReplica(
  bench: BenchEnvironment,
  keyPrefix: string,
  entries: number,
): Promise<
  Pick<
    HydrationMeasurement,
    'spawnToReadyMs' | 'listeningToReadyMs' | 'replicaCacheEntries' | 'replicaRssBytes'
  >
> {
  const spawnedAt = performance.now();
  const replica = await startApiReplica(bench, {
    adapter: 'fastify',
    strategy: 'local',
    name: `hydration-${entries}`,
    keyPrefix,
    env: { REVOCATION_CACHE_MAX: String(CACHE_MAX) },
  });
  try {
    // Listening = answering `/health/live`; ready = `/health/ready` 200 (hydrated, subscribed,
    // caught up). Polled every 10 ms; log lines are not used, they depend on LOG_LEVEL.
    const deadline = spawnedAt + 120_000;
    let listeningAt: number | undefined;
    let readyAt: number | undefined;
    while (readyAt === undefined) {
      if (!replica.process.running) throw new Error(`replica exited:\n${replica.process.tail()}`);
      if (performance.now() > deadline) throw new Error('replica not ready within 120 s');
      const probe = listeningAt === undefined ? '/health/live' : '/health/ready';
      try {
        const answer = await fetch(`${replica.url}${probe}`);
        await answer.arrayBuffer();
        if (answer.status === 200) {
          if (listeningAt === undefined) listeningAt = performance.now();
          else readyAt = performance.now();
          continue;
        }
      } catch {
        // Not listening yet.
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const metrics = await (await fetch(`${replica.url}/metrics`)).text();
    const match = /^rescind_cache_entries(?:\{[^}]*\})? (\d+)/m.exec(metrics);
    return {
      spawnToReadyMs: readyAt - spawnedAt,
      listeningToReadyMs: readyAt - (listeningAt as number),
      replicaCacheEntries: match ? Number(match[1]) : NaN,
      replicaRssBytes: processRssBytes(replica.pid),
    };
  } finally {
    await replica.stop('SIGTERM', 5_000);
  }
}
