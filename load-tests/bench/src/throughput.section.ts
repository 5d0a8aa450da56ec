import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { freePort, ManagedProcess, waitFor } from '@rescind/testing';
import jwt from 'jsonwebtoken';
import { ApiClient } from './api-client';
import {
  assertHydrated,
  type BenchEnvironment,
  type HttpAdapter,
  startApiReplica,
  type Strategy,
} from './bench-environment';
import { runExternalRounds } from './external.section';
import { randomJti } from './revocation-loader';
import {
  assertTokensAccepted,
  measureIdleRedisRate,
  mediansOfRounds,
  runAlternatingRounds,
  type Target,
  type ThroughputReport,
  warmUpTargets,
} from './rounds';
import { formatFixed, formatInt } from './stats';
import { TEXTBOOK_LISTENING } from './textbook/textbook.constants';

/** The throughput rounds, and the external issuer's on the same Fastify servers. */
export interface ThroughputSectionReport extends ThroughputReport {
  /** Absent with `--skip=external`. */
  readonly external?: ThroughputReport;
}

const ADAPTERS: readonly HttpAdapter[] = ['fastify', 'express'];
const STRATEGIES: readonly Strategy[] = ['none', 'redis', 'local'];
/** Label of the textbook configuration. */
export const TEXTBOOK_LABEL = 'textbook';
/** `fastify/local` at the API's default `LOG_LEVEL=info` (every other server runs at `warn`). */
export const LOCAL_AT_INFO_LABEL = 'fastify/local@info';
/** `GET /bench/floor` (no guard) on the `fastify/local` server, at `warn`. */
export const FLOOR_LABEL = 'floor';
/** `GET /bench/floor` on the `fastify/local@info` server. */
export const FLOOR_AT_INFO_LABEL = 'floor@info';
/** The route that does `GET /me`'s work without the guard (apps/api/src/floor). */
const FLOOR_PATH = '/bench/floor';
/** Textbook deny-list entries: raw tokens, as the textbook guard stores them. */
const TEXTBOOK_DENY_LIST_SIZE = 100_000;

/**
 * The order configurations are measured in within a round (reversed every other round). Every
 * pair that a checked ratio compares is adjacent, so that it is measured seconds apart (the others
 * are one configuration apart): the speed of a shared machine drifts by tens of percent over a
 * minute (see the README), and a ratio of configurations measured a minute apart would report the
 * drift.
 */
const MEASUREMENT_ORDER: readonly string[] = [
  'fastify/redis',
  FLOOR_LABEL,
  'fastify/none',
  'fastify/local',
  LOCAL_AT_INFO_LABEL,
  TEXTBOOK_LABEL,
  FLOOR_AT_INFO_LABEL,
  'express/local',
  'express/none',
  'express/redis',
];

/** Label of an API configuration, e.g. `fastify/local`. */
export function configLabel(adapter: HttpAdapter, strategy: Strategy): string {
  return `${adapter}/${strategy}`;
}

/**
 * `GET /me` with a valid token on every configuration, in alternating rounds so that drift of a
 * shared, noisy machine spreads over all of them. Only the configuration being loaded is busy.
 */
export async function runThroughputSection(
  bench: BenchEnvironment,
): Promise<ThroughputSectionReport> {
  const { options } = bench;
  console.log(
    `\n== Throughput: GET /me, ${options.connections} connections, ${options.rounds} alternating rounds of ${options.roundSeconds} s (+${options.warmupSeconds} s warm-up each)`,
  );
  const startedAt = performance.now();
  const stops: (() => Promise<unknown>)[] = [];
  // The access log of `fastify/local@info` goes to a file, not through a pipe into this process,
  // whose event loop is the load generator's (as a deployment's log shipper is not the client's).
  const accessLog = path.join(tmpdir(), `rescind-bench-${bench.keyPrefix}-info.log`);
  try {
    const targets = await startTargets(bench, stops, accessLog);
    const report = await measureTargets(bench, targets, startedAt);
    if (bench.issuer === undefined) return report;
    const find = (label: string): Target => targets.find((t) => t.label === label) as Target;
    const external = await runExternalRounds(
      bench,
      bench.issuer,
      find(configLabel('fastify', 'local')),
      find(configLabel('fastify', 'none')),
      report.idleRedisCommandsPerSecond,
    );
    return { ...report, external };
  } finally {
    // Idle servers would still tick and hold memory during the next sections.
    await Promise.all(stops.map((stop) => stop()));
    await reportAccessLog(accessLog).catch((error: unknown) => console.log(`   ${String(error)}`));
    await rm(accessLog, { force: true });
  }
}

/** Counts the access lines the `@info` server wrote (every one flushed by its exit). */
async function reportAccessLog(file: string): Promise<void> {
  let lines = 0;
  let requests = 0;
  const input = readline.createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  for await (const line of input) {
    lines++;
    if (line.includes('"msg":"request completed"')) requests++;
  }
  console.log(
    `   ${LOCAL_AT_INFO_LABEL} wrote ${formatInt(requests)} access lines (${formatInt(lines)} lines in all) to its stdout (a file)`,
  );
}

async function measureTargets(
  bench: BenchEnvironment,
  targets: Target[],
  startedAt: number,
): Promise<ThroughputReport> {
  console.log(
    `   ${new Set(targets.map((t) => t.process)).size} servers (${targets.length} configurations) ready in ${formatFixed((performance.now() - startedAt) / 1000, 1)} s`,
  );
  await warmUpTargets(bench, targets);
  const idleRate = await measureIdleRedisRate(bench, 2_000);
  const cycle = MEASUREMENT_ORDER.map((label) => {
    const target = targets.find((t) => t.label === label);
    if (target === undefined) throw new Error(`no configuration ${label}`);
    return target;
  });
  const rounds = await runAlternatingRounds(bench, cycle, idleRate);
  const medians = mediansOfRounds(bench, cycle, rounds);
  return { rounds, medians, idleRedisCommandsPerSecond: idleRate };
}

async function startTargets(
  bench: BenchEnvironment,
  stops: (() => Promise<unknown>)[],
  accessLog: string,
): Promise<Target[]> {
  const configs: { adapter: HttpAdapter; strategy: Strategy; logLevel: 'warn' | 'info' }[] = [
    ...ADAPTERS.flatMap((adapter) =>
      STRATEGIES.map((strategy) => ({ adapter, strategy, logLevel: 'warn' as const })),
    ),
    { adapter: 'fastify', strategy: 'local', logLevel: 'info' },
  ];
  const replicas = await Promise.all(
    configs.map(({ adapter, strategy, logLevel }) =>
      startApiReplica(bench, {
        adapter,
        strategy,
        logLevel,
        ...(logLevel === 'info' ? { stdoutFile: accessLog } : {}),
        name: `bench-${adapter}-${strategy}${logLevel === 'info' ? '-info' : ''}`,
        // The external issuer's rounds reuse these two (a token seen before skips the issuer
        // lookup, so our own tokens cost the same with it: docs/design.md, "External issuers").
        env: adapter === 'fastify' && strategy !== 'redis' ? bench.issuer?.replicaEnv() : undefined,
      }),
    ),
  );
  for (const replica of replicas) stops.push(() => replica.stop('SIGTERM', 5_000));
  const textbook = startTextbook(bench, stops);
  textbook.catch(() => undefined);
  await Promise.all(replicas.map((replica) => replica.ready(60_000)));

  // The revocations are real: every replica must have hydrated all of them.
  for (const replica of replicas) await assertHydrated(bench, replica);

  const first = new ApiClient((replicas[0] as (typeof replicas)[number]).url);
  await first.register(bench.user.username, bench.user.password);
  const tokens: string[] = [];
  for (let i = 0; i < bench.options.connections; i++) {
    tokens.push(await first.login(bench.user.username, bench.user.password));
  }
  first.close();

  const targets: Target[] = configs.map(({ adapter, strategy, logLevel }, i) => {
    const replica = replicas[i] as (typeof replicas)[number];
    return {
      label: logLevel === 'info' ? LOCAL_AT_INFO_LABEL : configLabel(adapter, strategy),
      url: replica.url,
      process: replica.process,
      tokens,
    };
  });
  // The floor: the same servers, the same work without the guard (its tokens are ignored).
  for (const [label, on] of [
    [FLOOR_LABEL, configLabel('fastify', 'local')],
    [FLOOR_AT_INFO_LABEL, LOCAL_AT_INFO_LABEL],
  ] as const) {
    const server = targets.find((t) => t.label === on) as Target;
    targets.push({ ...server, label, path: FLOOR_PATH });
  }
  targets.push(await textbook);
  await assertTokensAccepted(targets);
  return targets;
}

async function startTextbook(
  bench: BenchEnvironment,
  stops: (() => Promise<unknown>)[],
): Promise<Target> {
  // Its deny-list holds raw tokens, as the textbook logout writes them (token-sized random keys).
  for (let done = 0; done < TEXTBOOK_DENY_LIST_SIZE; done += 10_000) {
    const args = ['MSET'];
    for (let i = 0; i < 10_000; i++) args.push(`eyJ${randomBytes(150).toString('base64url')}`, '1');
    await bench.redis.command(...args);
  }

  const port = await freePort();
  const child = await ManagedProcess.spawnNode(path.join(__dirname, 'textbook', 'main.js'), {
    name: 'textbook',
    env: { PORT: String(port), REDIS_URL: bench.redis.url, JWT_SECRET: bench.jwtSecret },
  });
  const remove = bench.cleanup.add('textbook', () => child.stop('SIGTERM', 5_000));
  void child.exited.then(remove);
  stops.push(() => child.stop('SIGTERM', 5_000));
  await child.waitForLine(new RegExp(TEXTBOOK_LISTENING), 60_000);
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(`${url}/me`)).status === 401, {
    timeoutMs: 10_000,
    description: 'the textbook app to answer',
  });
  const tokens = Array.from({ length: bench.options.connections }, () =>
    jwt.sign(
      { sub: 'textbook-user', username: bench.user.username, jti: randomJti() },
      bench.jwtSecret,
      { algorithm: 'HS256', expiresIn: 900 },
    ),
  );
  return { label: TEXTBOOK_LABEL, url, process: child, tokens };
}
