import { randomBytes } from 'node:crypto';
import { type ApiClient } from './api-client';
import { type BenchEnvironment } from './bench-environment';
import { type BenchIssuer, type ProviderAlgorithm } from './bench-issuer';
import {
  addBuckets,
  bucketQuantileMs,
  bucketTotal,
  readPropagationBuckets,
  subtractBuckets,
} from './propagation-histogram';
import { pollUntilRejected } from './rejection-poll';
import {
  assertTokensAccepted,
  mediansOfRounds,
  runAlternatingRounds,
  type Target,
  type ThroughputReport,
  warmUpTargets,
} from './rounds';
import { formatFixed, summarize } from './stats';

// The external issuer's parts (`--skip=external` leaves them out; docs/design.md, "External
// issuers"): rounds run by the throughput section on its Fastify `local` and `none` servers,
// and back-channel logouts timed by the fan-out section on its three replicas. Both reuse the
// servers already running, so the part costs no start-up.

/** Where a provider posts its logout tokens (OpenID Connect Back-Channel Logout 1.0, §2.5). */
export const BACKCHANNEL_LOGOUT_PATH = '/oidc/backchannel-logout';

/** Label of an external issuer configuration: the token's algorithm and the strategy. */
export function externalLabel(
  alg: ProviderAlgorithm | 'HS256',
  strategy: 'local' | 'none',
): string {
  return `${alg}/${strategy}`;
}

/**
 * Measurement order within a round (reversed every other round): each algorithm's `local` and
 * `none` are neighbours, and so is each provider `local` with our own HS256 token on the same
 * `local` server, so every ratio the summary prints is of a pair measured back to back.
 */
const MEASUREMENT_ORDER: readonly string[] = [
  externalLabel('ES256', 'none'),
  externalLabel('ES256', 'local'),
  externalLabel('HS256', 'local'),
  externalLabel('RS256', 'local'),
  externalLabel('RS256', 'none'),
];

/** p50, p99 and max of some latencies, in ms. */
export interface LatencySummary {
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

/** Propagation of back-channel logouts to three replicas, idle. */
export interface BackChannelReport {
  readonly sessions: number;
  /** Back-channel call returned → the last of the three replicas answers 401. */
  readonly lastReplica: LatencySummary;
  /** Every "call returned → last replica rejects" time, in ms (for the chart). */
  readonly lastReplicaSamplesMs: readonly number[];
  /** … → the replica that took the call answers 401 (read your revocation). */
  readonly receiving: LatencySummary;
  /** … → each of the other two answers 401. */
  readonly others: LatencySummary;
  /** The back-channel call's own round trip (verify, replay claim, revoke). */
  readonly call: LatencySummary;
  /** The replicas' `rescind_propagation_seconds` bucket bounds holding 50% and 99% of events. */
  readonly appliedP50BucketMs: number;
  readonly appliedP99BucketMs: number;
  readonly appliedEvents: number;
}

/**
 * What the external issuer's parts measured (each absent when its section was skipped);
 * `backChannel` says why it was not measured, if the build has no route.
 */
export interface ExternalReport {
  readonly throughput?: ThroughputReport;
  readonly backChannel?: BackChannelReport | { readonly unavailable: string };
}

/** Replicas the back-channel part polls (the fan-out section's). */
const REPLICAS = 3;

/**
 * A provider's access tokens (each with its own `sid`) on Fastify: `local` vs `none` per
 * algorithm (ES256, RS256), and vs our own HS256 token on the same `local` server, in alternating
 * rounds as the throughput section runs its own.
 * @param local the throughput section's `fastify/local` server (its tokens are our own)
 * @param none its `fastify/none` server
 */
export async function runExternalRounds(
  bench: BenchEnvironment,
  issuer: BenchIssuer,
  local: Target,
  none: Target,
  idleRedisCommandsPerSecond: number,
): Promise<ThroughputReport> {
  const { options } = bench;
  const startedAt = performance.now();
  console.log(
    `\n== External issuer (loopback OpenID provider, ES256 + RS256 keys), on the same fastify/local and fastify/none: GET /me, each connection with its own provider token and sid; ${options.rounds} alternating rounds of ${options.externalRoundSeconds} s (+${options.warmupSeconds} s warm-up each)`,
  );
  const run = randomBytes(4).toString('hex');
  const targets: Target[] = [];
  for (const alg of ['ES256', 'RS256'] as const) {
    const tokens = await Promise.all(
      Array.from({ length: options.connections }, (_, i) =>
        issuer.accessToken(alg, `bench-${i}`, `sid-${run}-${alg}-${i}`),
      ),
    );
    for (const [server, strategy] of [
      [local, 'local'],
      [none, 'none'],
    ] as const) {
      targets.push({ ...server, label: externalLabel(alg, strategy), tokens });
    }
  }
  targets.push({ ...local, label: externalLabel('HS256', 'local') });
  await assertTokensAccepted(targets);
  // Both servers are warm from the throughput rounds; a short warm-up shows them the new tokens
  // (their first sight is verified asynchronously) and each round has its own.
  const cycle = MEASUREMENT_ORDER.map((label) => {
    const target = targets.find((t) => t.label === label);
    if (target === undefined) throw new Error(`no configuration ${label}`);
    return target;
  });
  await warmUpTargets(bench, cycle.slice(0, 2), options.warmupSeconds);
  const rounds = await runAlternatingRounds(
    bench,
    cycle,
    idleRedisCommandsPerSecond,
    options.externalRoundSeconds,
  );
  const medians = mediansOfRounds(bench, cycle, rounds);
  console.log(
    `   (external issuer rounds: ${formatFixed((performance.now() - startedAt) / 1000, 1)} s)`,
  );
  return { rounds, medians, idleRedisCommandsPerSecond };
}

/** One provider session ended through the back channel, timed from the call's return. */
interface SessionSample {
  readonly origin: number;
  readonly callMs: number;
  /** Per replica, ms from the call's return to its first 401. */
  readonly rejectedAfterMs: readonly number[];
}

/**
 * Back-channel logouts (OpenID Connect Back-Channel Logout 1.0), idle: for each session, a
 * provider token with a fresh `sid` that every replica accepts, then a logout token for that
 * `sid` posted to replica _i mod 3_, then every replica polled until it answers 401.
 * @param clients one per replica, for the back-channel calls
 * @param pollers one per replica, for `GET /me` polls only (their sockets stay warm)
 */
export async function runBackChannelPhase(
  bench: BenchEnvironment,
  issuer: BenchIssuer,
  clients: readonly ApiClient[],
  pollers: readonly ApiClient[],
): Promise<BackChannelReport | { unavailable: string }> {
  const count = bench.options.backChannelSessions;
  const startedAt = performance.now();
  console.log(
    `   back-channel logout (external issuer): ${count} provider sessions, each accepted by all ${REPLICAS} replicas, then POST ${BACKCHANNEL_LOGOUT_PATH} (logout token with its sid) to replica i mod ${REPLICAS}; poll all ${REPLICAS} with GET /me until 401; idle`,
  );
  const run = randomBytes(4).toString('hex');
  let next = 0;
  const endSession = async (): Promise<SessionSample | { unavailable: string }> => {
    const i = next++;
    const origin = i % clients.length;
    const sid = `bcl-${run}-${i}`;
    const token = await issuer.accessToken('ES256', `bcl-user-${i}`, sid);
    // Every replica accepts the session first (and the poll sockets are warm).
    for (const [j, poller] of pollers.entries()) {
      const status = await poller.meStatus(token);
      if (status !== 200) throw new Error(`replica ${j + 1} answered ${status} before the logout`);
    }
    const logoutToken = await issuer.logoutToken(sid);
    const calledAt = performance.now();
    const answer = await clients[origin]!.request('POST', BACKCHANNEL_LOGOUT_PATH, {
      form: { logout_token: logoutToken },
    });
    const returnedAt = performance.now();
    if (answer.status === 404) {
      return { unavailable: `POST ${BACKCHANNEL_LOGOUT_PATH} answered 404 (not in this build)` };
    }
    if (answer.status !== 200) {
      throw new Error(`back-channel logout answered ${answer.status} ${answer.body.slice(0, 200)}`);
    }
    const seen = await Promise.all(pollers.map((poller) => pollUntilRejected(poller, token)));
    return {
      origin,
      callMs: returnedAt - calledAt,
      rejectedAfterMs: seen.map((at) => at - returnedAt),
    };
  };
  // Warm-up (JIT, sockets, the route's first verify), which also finds out whether the build
  // has the route at all.
  for (let i = 0; i < (bench.options.quick ? 5 : 20); i++) {
    const sample = await endSession();
    if ('unavailable' in sample) {
      console.log(`   not measured: ${sample.unavailable}`);
      return sample;
    }
  }
  const readApplied = async () =>
    addBuckets(await Promise.all(clients.map((client) => readPropagationBuckets(client.baseUrl))));
  const appliedBefore = await readApplied();
  const samples: SessionSample[] = [];
  for (let i = 0; i < count; i++) {
    const sample = await endSession();
    if ('unavailable' in sample) throw new Error(sample.unavailable);
    samples.push(sample);
  }
  const applied = subtractBuckets(await readApplied(), appliedBefore);
  const report: BackChannelReport = {
    sessions: count,
    lastReplica: latencies(samples.map((s) => Math.max(...s.rejectedAfterMs))),
    lastReplicaSamplesMs: samples.map((s) => Math.max(...s.rejectedAfterMs)),
    receiving: latencies(samples.map((s) => s.rejectedAfterMs[s.origin] as number)),
    others: latencies(samples.flatMap((s) => s.rejectedAfterMs.filter((_, j) => j !== s.origin))),
    call: latencies(samples.map((s) => s.callMs)),
    appliedP50BucketMs: bucketQuantileMs(applied, 0.5),
    appliedP99BucketMs: bucketQuantileMs(applied, 0.99),
    appliedEvents: bucketTotal(applied),
  };
  printBackChannel(report);
  console.log(
    `   (back-channel logout: ${formatFixed((performance.now() - startedAt) / 1000, 1)} s)`,
  );
  return report;
}

function latencies(samples: readonly number[]): LatencySummary {
  const s = summarize(samples);
  return { p50Ms: s.p50, p99Ms: s.p99, maxMs: s.max };
}

/** `p50 1.23 / p99 4.56 / max 7.89 ms` */
export function formatLatencies(l: LatencySummary): string {
  return `p50 ${formatFixed(l.p50Ms, 2)} / p99 ${formatFixed(l.p99Ms, 2)} / max ${formatFixed(l.maxMs, 2)} ms`;
}

function printBackChannel(report: BackChannelReport): void {
  console.log(
    `   call returned → last of ${REPLICAS} replicas rejects: ${formatLatencies(report.lastReplica)}   (${report.sessions} sessions)`,
  );
  console.log(`   … the receiving replica rejects: ${formatLatencies(report.receiving)}`);
  console.log(`   … each other replica rejects:    ${formatLatencies(report.others)}`);
  console.log(`   the back-channel call itself:    ${formatLatencies(report.call)}`);
  console.log(
    `   replicas' own rescind_propagation_seconds (creation → applied, ${report.appliedEvents} pub/sub events): p50 ≤ ${formatFixed(report.appliedP50BucketMs, 1)} ms, p99 ≤ ${formatFixed(report.appliedP99BucketMs, 1)} ms (bucket bounds)`,
  );
}
