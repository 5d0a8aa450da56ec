import * as path from 'node:path';
import { ManagedProcess } from '@rescind/testing';
import { ApiClient } from './api-client';
import {
  BACKGROUND_LOAD_RESULT,
  BACKGROUND_LOAD_STARTED,
  type BackgroundLoadSpec,
} from './background-load.protocol';
import { type BenchEnvironment, startApiReplica } from './bench-environment';
import { type BackChannelReport, runBackChannelPhase } from './external.section';
import {
  addBuckets,
  bucketQuantileMs,
  bucketTotal,
  readPropagationBuckets,
  subtractBuckets,
} from './propagation-histogram';
import { pollUntilRejected } from './rejection-poll';
import { formatFixed, formatInt, summarize } from './stats';

/** Fan-out latencies of one phase, in ms. */
export interface FanOutPhase {
  readonly name: 'idle' | 'under load';
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly samples: number;
  /** Every "logout returned → 401 seen" time, in ms (for the chart). */
  readonly samplesMs: readonly number[];
  /** Per observing replica (index in the set). */
  readonly perReplica: readonly { p50Ms: number; p99Ms: number; maxMs: number }[];
  /**
   * The replicas' own view (`rescind_propagation_seconds`, creation → applied from pub/sub):
   * bucket upper bounds holding 50% and 99% of the events, in ms.
   */
  readonly appliedP50BucketMs: number;
  readonly appliedP99BucketMs: number;
  readonly appliedEvents: number;
  /** Achieved background rate, for the loaded phase. */
  readonly backgroundRequestsPerSecond?: number;
  readonly backgroundFailures?: number;
}

/** Both phases, and the external issuer's back-channel logouts between them. */
export interface FanOutReport {
  readonly idle: FanOutPhase;
  readonly loaded: FanOutPhase;
  readonly targetBackgroundRate: number;
  /** Absent with `--skip=external`. */
  readonly backChannel?: BackChannelReport | { readonly unavailable: string };
}

const REPLICAS = 3;

/**
 * Revoke on one of three replicas (local strategy, Fastify), poll the other two until they answer
 * 401, and time "logout returned → 401 seen". Then the same under a steady background load.
 * @param capacity requests/s one `fastify/local` replica served in the throughput section
 */
export async function runFanOutSection(
  bench: BenchEnvironment,
  capacity: number,
): Promise<FanOutReport> {
  const count = bench.options.fanOutRevocations;
  const targetBackgroundRate = Math.round(capacity / 2);
  console.log(
    `\n== Fan-out: logout on 1 of ${REPLICAS} replicas (fastify/local), poll the other 2 with GET /me until 401; ${count} revocations per phase`,
  );
  const replicas = await Promise.all(
    Array.from({ length: REPLICAS }, (_, i) =>
      startApiReplica(bench, {
        adapter: 'fastify',
        strategy: 'local',
        name: `fanout-${i + 1}`,
        env: bench.issuer?.replicaEnv(),
      }),
    ),
  );
  await Promise.all(replicas.map((replica) => replica.ready(60_000)));
  const clients = replicas.map((replica) => new ApiClient(replica.url));
  const pollers = replicas.map((replica) => new ApiClient(replica.url));
  try {
    await clients[0]?.register(bench.user.username, bench.user.password);
    // Warm-up: JIT and sockets of every path used below.
    await measurePhase(bench, clients, pollers, 'idle', bench.options.quick ? 5 : 20, false);
    const idle = await measurePhase(bench, clients, pollers, 'idle', count, true);
    const backChannel =
      bench.issuer === undefined
        ? undefined
        : await runBackChannelPhase(bench, bench.issuer, clients, pollers);

    const backgroundToken = await clients[0]!.login(bench.user.username, bench.user.password);
    const spec: BackgroundLoadSpec = {
      urls: replicas.map((replica) => replica.url),
      token: backgroundToken,
      overallRate: targetBackgroundRate,
      connectionsPerUrl: 8,
      durationSeconds: 600,
    };
    const background = await ManagedProcess.spawnNode(path.join(__dirname, 'background-load.js'), {
      name: 'background-load',
      args: [JSON.stringify(spec)],
    });
    const remove = bench.cleanup.add('background load', () => background.stop('SIGTERM', 5_000));
    void background.exited.then(remove);
    await background.waitForLine(new RegExp(BACKGROUND_LOAD_STARTED), 10_000);
    // Let the load settle before timing.
    await new Promise((resolve) => setTimeout(resolve, bench.options.quick ? 500 : 2_000));
    const loadedSamples = await measurePhase(bench, clients, pollers, 'under load', count, true);
    await background.stop('SIGTERM', 10_000);
    const achieved = await background
      .waitForLine(new RegExp(`^${BACKGROUND_LOAD_RESULT}`), 1_000)
      .then(
        (match) =>
          JSON.parse(match.input.slice(BACKGROUND_LOAD_RESULT.length)) as {
            requestsPerSecond: number;
            failures: number;
          },
      )
      .catch(() => undefined);
    const loaded: FanOutPhase = {
      ...loadedSamples,
      ...(achieved === undefined
        ? {}
        : {
            backgroundRequestsPerSecond: achieved.requestsPerSecond,
            backgroundFailures: achieved.failures,
          }),
    };
    console.log(
      `   background load: target ${formatInt(targetBackgroundRate)} req/s (half of fastify/local capacity ${formatInt(capacity)}), spread over the ${REPLICAS} replicas; achieved ${achieved ? formatInt(achieved.requestsPerSecond) : 'n/a'} req/s, ${achieved?.failures ?? 'n/a'} failed`,
    );
    return { idle, loaded, targetBackgroundRate, ...(backChannel ? { backChannel } : {}) };
  } finally {
    for (const client of [...clients, ...pollers]) client.close();
    await Promise.all(replicas.map((replica) => replica.stop('SIGTERM', 5_000)));
  }
}

async function measurePhase(
  bench: BenchEnvironment,
  clients: ApiClient[],
  pollers: ApiClient[],
  name: FanOutPhase['name'],
  count: number,
  report: boolean,
): Promise<FanOutPhase> {
  const readApplied = async () =>
    addBuckets(await Promise.all(clients.map((client) => readPropagationBuckets(client.baseUrl))));
  const appliedBefore = await readApplied();
  const all: number[] = [];
  const perReplica: number[][] = clients.map(() => []);
  for (let i = 0; i < count; i++) {
    const origin = i % clients.length;
    const others = clients.map((_, j) => j).filter((j) => j !== origin);
    const token = await clients[origin]!.login(bench.user.username, bench.user.password);
    // The token works everywhere before the logout (and the poll sockets are warm).
    for (const j of others) {
      const status = await pollers[j]!.meStatus(token);
      if (status !== 200) throw new Error(`replica ${j + 1} answered ${status} before the logout`);
    }
    await clients[origin]!.logout(token);
    const loggedOutAt = performance.now();
    const seen = await Promise.all(others.map((j) => pollUntilRejected(pollers[j]!, token)));
    others.forEach((j, k) => {
      const ms = (seen[k] as number) - loggedOutAt;
      all.push(ms);
      perReplica[j]!.push(ms);
    });
  }
  const applied = subtractBuckets(await readApplied(), appliedBefore);
  const total = summarize(all);
  const phase: FanOutPhase = {
    name,
    p50Ms: total.p50,
    p99Ms: total.p99,
    maxMs: total.max,
    samples: total.n,
    samplesMs: all,
    perReplica: perReplica.map((samples) => {
      const s = summarize(samples);
      return { p50Ms: s.p50, p99Ms: s.p99, maxMs: s.max };
    }),
    appliedP50BucketMs: bucketQuantileMs(applied, 0.5),
    appliedP99BucketMs: bucketQuantileMs(applied, 0.99),
    appliedEvents: bucketTotal(applied),
  };
  if (report) {
    console.log(
      `   ${name.padEnd(11)} p50 ${formatFixed(phase.p50Ms, 2)} ms   p99 ${formatFixed(phase.p99Ms, 2)} ms   max ${formatFixed(phase.maxMs, 2)} ms   (${phase.samples} samples: ${count} revocations × 2 other replicas)`,
    );
    console.log(
      `   ${''.padEnd(11)} per observing replica: ${phase.perReplica.map((r, i) => `#${i + 1} p50 ${formatFixed(r.p50Ms, 2)} / p99 ${formatFixed(r.p99Ms, 2)} / max ${formatFixed(r.maxMs, 2)}`).join(';  ')}`,
    );
    console.log(
      `   ${''.padEnd(11)} replicas' own rescind_propagation_seconds (creation → applied, ${phase.appliedEvents} pub/sub events): p50 ≤ ${formatFixed(phase.appliedP50BucketMs, 1)} ms, p99 ≤ ${formatFixed(phase.appliedP99BucketMs, 1)} ms (bucket bounds)`,
    );
  }
  return phase;
}
