import { randomBytes } from 'node:crypto';
import { type ApiReplica } from '@rescind/testing';
import { ApiClient } from './api-client';
import { assertHydrated, type BenchEnvironment, startApiReplica } from './bench-environment';
import { BenchIssuer, type ProviderAlgorithm } from './bench-issuer';
import {
  addBuckets,
  bucketQuantileMs,
  bucketTotal,
  readPropagationBuckets,
  subtractBuckets,
} from './propagation-histogram';
import { pollUntilRejected } from './rejection-poll';
import { formatFixed, summarize } from './stats';
import {
  assertTokensAccepted,
  measureIdleRedisRate,
  mediansOfRounds,
  runAlternatingRounds,
  type Target,
  type ThroughputReport,
  warmUpTargets,
} from './throughput.section';

/** Where a provider posts its logout tokens (OpenID Connect Back-Channel Logout 1.0, §2.5). */
export const BACKCHANNEL_LOGOUT_PATH = '/oidc/backchannel-logout';

/** Label of a configuration of this section: the token's algorithm and the strategy. */
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

/** What the external section measured; `backChannel` says why it was not measured, if it was not. */
export interface ExternalReport {
  readonly throughput: ThroughputReport;
  readonly backChannel: BackChannelReport | { readonly unavailable: string };
}

/** Replicas sharing the back-channel part: the measured `local` one and two more. */
const REPLICAS = 3;

/**
 * A provider's access tokens (docs/design.md, "External issuers") on Fastify: `local` vs `none`
 * per algorithm (ES256, RS256), and vs our own HS256 token on the same `local` server, in
 * alternating rounds as the throughput section runs them; then back-channel logouts
 * (OpenID Connect Back-Channel Logout 1.0) and how soon all three replicas reject the session.
 */
export async function runExternalSection(bench: BenchEnvironment): Promise<ExternalReport> {
  const { options } = bench;
  console.log(
    `\n== External issuer (loopback OpenID provider, ES256 + RS256 keys; Fastify): GET /me with provider tokens (each with a sid), ${options.connections} connections, ${options.rounds} alternating rounds of ${options.externalRoundSeconds} s (+${options.warmupSeconds} s warm-up each)`,
  );
  const startedAt = performance.now();
  const issuer = await BenchIssuer.start();
  const removeIssuer = bench.cleanup.add('bench issuer', () => issuer.stop());
  const replicas: ApiReplica[] = [];
  try {
    const start = (name: string, strategy: 'local' | 'none'): Promise<ApiReplica> =>
      startApiReplica(bench, { adapter: 'fastify', strategy, name, env: issuer.replicaEnv() });
    replicas.push(
      ...(await Promise.all([
        start('external-local', 'local'),
        start('external-none', 'none'),
        ...Array.from({ length: REPLICAS - 1 }, (_, i) => start(`external-${i + 2}`, 'local')),
      ])),
    );
    await Promise.all(replicas.map((replica) => replica.ready(60_000)));
    for (const replica of replicas) await assertHydrated(bench, replica);
    console.log(
      `   ${replicas.length} replicas ready in ${formatFixed((performance.now() - startedAt) / 1000, 1)} s (one local and one none measured; the two other local ones join the back-channel part)`,
    );
    const [local, none, ...more] = replicas as [ApiReplica, ApiReplica, ...ApiReplica[]];

    const throughput = await measureThroughput(bench, issuer, local, none);
    await none.stop('SIGTERM', 5_000);
    const backChannel = await measureBackChannel(bench, issuer, [local, ...more]);
    return { throughput, backChannel };
  } finally {
    await Promise.all(replicas.map((replica) => replica.stop('SIGTERM', 5_000)));
    await issuer.stop();
    removeIssuer();
  }
}

async function measureThroughput(
  bench: BenchEnvironment,
  issuer: BenchIssuer,
  local: ApiReplica,
  none: ApiReplica,
): Promise<ThroughputReport> {
  const { connections } = bench.options;
  const run = randomBytes(4).toString('hex');
  const providerTokens = async (alg: ProviderAlgorithm): Promise<string[]> =>
    Promise.all(
      Array.from({ length: connections }, (_, i) =>
        issuer.accessToken(alg, `bench-${i}`, `sid-${run}-${alg}-${i}`),
      ),
    );
  const ownClient = new ApiClient(local.url);
  const ownTokens: string[] = [];
  try {
    await ownClient.register(bench.user.username, bench.user.password);
    for (let i = 0; i < connections; i++) {
      ownTokens.push(await ownClient.login(bench.user.username, bench.user.password));
    }
  } finally {
    ownClient.close();
  }
  const targets: Target[] = [];
  for (const alg of ['ES256', 'RS256'] as const) {
    const tokens = await providerTokens(alg);
    for (const [replica, strategy] of [
      [local, 'local'],
      [none, 'none'],
    ] as const) {
      targets.push({
        label: externalLabel(alg, strategy),
        url: replica.url,
        process: replica.process,
        tokens,
      });
    }
  }
  targets.push({
    label: externalLabel('HS256', 'local'),
    url: local.url,
    process: local.process,
    tokens: ownTokens,
  });
  await assertTokensAccepted(targets);
  // Once per server (JIT, pools); each round's own warm-up then shows every token once more.
  await warmUpTargets(
    bench,
    targets.filter((target, i) => targets.findIndex((t) => t.url === target.url) === i),
  );
  const idleRate = await measureIdleRedisRate(bench, bench.options.quick ? 1_000 : 2_000);
  const cycle = MEASUREMENT_ORDER.map((label) => {
    const target = targets.find((t) => t.label === label);
    if (target === undefined) throw new Error(`no configuration ${label}`);
    return target;
  });
  const rounds = await runAlternatingRounds(
    bench,
    cycle,
    idleRate,
    bench.options.externalRoundSeconds,
  );
  const medians = mediansOfRounds(bench, cycle, rounds);
  return { rounds, medians, idleRedisCommandsPerSecond: idleRate };
}

/** One provider session ended through the back channel, timed from the call's return. */
interface SessionSample {
  readonly origin: number;
  readonly callMs: number;
  /** Per replica, ms from the call's return to its first 401. */
  readonly rejectedAfterMs: readonly number[];
}

async function measureBackChannel(
  bench: BenchEnvironment,
  issuer: BenchIssuer,
  replicas: readonly ApiReplica[],
): Promise<BackChannelReport | { unavailable: string }> {
  const count = bench.options.backChannelSessions;
  console.log(
    `\n   back-channel logout: ${count} provider sessions, each accepted by all ${REPLICAS} replicas, then POST ${BACKCHANNEL_LOGOUT_PATH} (logout token with its sid) to replica i mod ${REPLICAS}; poll all ${REPLICAS} with GET /me until 401; idle`,
  );
  const clients = replicas.map((replica) => new ApiClient(replica.url));
  const pollers = replicas.map((replica) => new ApiClient(replica.url));
  const run = randomBytes(4).toString('hex');
  let next = 0;
  const endSession = async (): Promise<SessionSample | { unavailable: string }> => {
    const i = next++;
    const origin = i % replicas.length;
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
  try {
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
      addBuckets(
        await Promise.all(clients.map((client) => readPropagationBuckets(client.baseUrl))),
      );
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
      receiving: latencies(samples.map((s) => s.rejectedAfterMs[s.origin] as number)),
      others: latencies(samples.flatMap((s) => s.rejectedAfterMs.filter((_, j) => j !== s.origin))),
      call: latencies(samples.map((s) => s.callMs)),
      appliedP50BucketMs: bucketQuantileMs(applied, 0.5),
      appliedP99BucketMs: bucketQuantileMs(applied, 0.99),
      appliedEvents: bucketTotal(applied),
    };
    printBackChannel(report);
    return report;
  } finally {
    for (const client of [...clients, ...pollers]) client.close();
  }
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
