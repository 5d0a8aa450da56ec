import { setTimeout as sleep } from 'node:timers/promises';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
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
import { runHttpLoad } from './http-load';
import { processCpuMicros } from './process-cpu';
import { RedisCommandWindow } from './redis-command-counter';
import { formatFixed, formatInt, median } from './stats';
import { TEXTBOOK_LISTENING } from './textbook/textbook.constants';
import { randomJti } from './revocation-loader';

/** One server under test. */
export interface Target {
  readonly label: string;
  readonly url: string;
  readonly process: ManagedProcess;
  /** One per connection, as distinct clients hold distinct tokens. */
  readonly tokens: readonly string[];
}

/** One measured round of one configuration. */
export interface RoundMeasurement {
  readonly label: string;
  readonly round: number;
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly cpuMicrosPerRequest: number;
  /** Net of the idle background rate (anti-entropy ticks of every running replica). */
  readonly redisCommandsPerRequest: number;
  readonly requests: number;
  readonly failures: number;
}

/** Medians of one configuration over its rounds. */
export interface ConfigurationMedians {
  readonly label: string;
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly cpuMicrosPerRequest: number;
  readonly redisCommandsPerRequest: number;
  readonly failures: number;
}

/** What the throughput section hands to the others and to the summary. */
export interface ThroughputReport {
  readonly rounds: readonly RoundMeasurement[];
  readonly medians: ReadonlyMap<string, ConfigurationMedians>;
  /** Commands per second Redis executed with every server idle. */
  readonly idleRedisCommandsPerSecond: number;
}

const ADAPTERS: readonly HttpAdapter[] = ['fastify', 'express'];
const STRATEGIES: readonly Strategy[] = ['none', 'redis', 'local'];
/** Label of the fourth configuration. */
export const TEXTBOOK_LABEL = 'textbook';
/** Textbook deny-list entries: raw tokens, as the textbook guard stores them. */
const TEXTBOOK_DENY_LIST_SIZE = 100_000;

/**
 * The order configurations are measured in within a round (reversed every other round). Every
 * pair that a ratio compares is adjacent, so that it is measured seconds apart: the speed of a
 * shared machine drifts by tens of percent over a minute (see the README), and a ratio of
 * configurations measured a minute apart would report the drift.
 */
const MEASUREMENT_ORDER: readonly string[] = [
  'fastify/redis',
  'fastify/none',
  'fastify/local',
  TEXTBOOK_LABEL,
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
export async function runThroughputSection(bench: BenchEnvironment): Promise<ThroughputReport> {
  const { options } = bench;
  console.log(
    `\n== Throughput: GET /me, ${options.connections} connections, ${options.rounds} alternating rounds of ${options.roundSeconds} s (+${options.warmupSeconds} s warm-up each)`,
  );
  const startedAt = performance.now();
  const stops: (() => Promise<unknown>)[] = [];
  try {
    return await measureTargets(bench, await startTargets(bench, stops), startedAt);
  } finally {
    // Idle servers would still tick and hold memory during the next sections.
    await Promise.all(stops.map((stop) => stop()));
  }
}

async function measureTargets(
  bench: BenchEnvironment,
  targets: Target[],
  startedAt: number,
): Promise<ThroughputReport> {
  console.log(
    `   ${targets.length} servers ready in ${formatFixed((performance.now() - startedAt) / 1000, 1)} s`,
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

/** The unmeasured warm-up of every configuration before its first round (JIT, pools, memos). */
export async function warmUpTargets(
  bench: BenchEnvironment,
  targets: readonly Target[],
): Promise<void> {
  for (const target of targets) {
    await runHttpLoad({
      url: `${target.url}/me`,
      tokens: target.tokens,
      connections: bench.options.connections,
      durationSeconds: bench.options.initialWarmupSeconds,
      recordLatency: false,
    });
  }
}

/**
 * Commands per second Redis executes with every server idle (their anti-entropy ticks),
 * subtracted from each round's count.
 */
export async function measureIdleRedisRate(
  bench: BenchEnvironment,
  windowMs: number,
): Promise<number> {
  const idle = await RedisCommandWindow.open(bench.redis);
  await sleep(windowMs);
  const idleWindow = await idle.close();
  const idleRate = idleWindow.commands / (idleWindow.elapsedMs / 1000);
  console.log(
    `   Redis background with every server idle: ${formatFixed(idleRate, 1)} commands/s (anti-entropy ticks); subtracted below`,
  );
  return idleRate;
}

/**
 * `options.rounds` rounds over `cycle`, in its order in odd rounds and reversed in even ones, so
 * that neighbours in `cycle` are measured back to back both ways round; prints every round.
 */
export async function runAlternatingRounds(
  bench: BenchEnvironment,
  cycle: readonly Target[],
  idleRedisCommandsPerSecond: number,
  roundSeconds = bench.options.roundSeconds,
): Promise<RoundMeasurement[]> {
  console.log(
    `   ${'round'.padEnd(6)}${'configuration'.padEnd(16)}${'req/s'.padStart(9)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'CPU µs/req'.padStart(12)}${'Redis cmd/req'.padStart(15)}${'failed'.padStart(8)}`,
  );
  const rounds: RoundMeasurement[] = [];
  for (let round = 1; round <= bench.options.rounds; round++) {
    // Every compared pair is measured back to back, first one way round, then the other.
    for (const target of round % 2 === 1 ? cycle : [...cycle].reverse()) {
      const measured = await measureRound(
        bench,
        target,
        round,
        idleRedisCommandsPerSecond,
        roundSeconds,
      );
      rounds.push(measured);
      console.log(
        `   ${String(round).padEnd(6)}${measured.label.padEnd(16)}${formatInt(measured.requestsPerSecond).padStart(9)}${formatFixed(measured.p50Ms, 2).padStart(9)}${formatFixed(measured.p99Ms, 2).padStart(9)}${formatFixed(measured.cpuMicrosPerRequest, 1).padStart(12)}${formatFixed(measured.redisCommandsPerRequest, 3).padStart(15)}${String(measured.failures).padStart(8)}`,
      );
    }
  }
  return rounds;
}

/** Each configuration's medians over its rounds, printed. */
export function mediansOfRounds(
  bench: BenchEnvironment,
  targets: readonly Target[],
  rounds: readonly RoundMeasurement[],
): Map<string, ConfigurationMedians> {
  const medians = new Map<string, ConfigurationMedians>();
  for (const target of targets) {
    const own = rounds.filter((r) => r.label === target.label);
    medians.set(target.label, {
      label: target.label,
      requestsPerSecond: median(own.map((r) => r.requestsPerSecond)),
      p50Ms: median(own.map((r) => r.p50Ms)),
      p99Ms: median(own.map((r) => r.p99Ms)),
      cpuMicrosPerRequest: median(own.map((r) => r.cpuMicrosPerRequest)),
      redisCommandsPerRequest: median(own.map((r) => r.redisCommandsPerRequest)),
      failures: own.reduce((sum, r) => sum + r.failures, 0),
    });
  }
  console.log(`\n   medians over ${bench.options.rounds} rounds:`);
  for (const m of medians.values()) {
    console.log(
      `   ${''.padEnd(6)}${m.label.padEnd(16)}${formatInt(m.requestsPerSecond).padStart(9)}${formatFixed(m.p50Ms, 2).padStart(9)}${formatFixed(m.p99Ms, 2).padStart(9)}${formatFixed(m.cpuMicrosPerRequest, 1).padStart(12)}${formatFixed(m.redisCommandsPerRequest, 3).padStart(15)}${String(m.failures).padStart(8)}`,
    );
  }
  return medians;
}

async function measureRound(
  bench: BenchEnvironment,
  target: Target,
  round: number,
  idleRedisCommandsPerSecond: number,
  roundSeconds: number,
): Promise<RoundMeasurement> {
  const { options } = bench;
  const load = { url: `${target.url}/me`, tokens: target.tokens, connections: options.connections };
  await runHttpLoad({ ...load, durationSeconds: options.warmupSeconds, recordLatency: false });
  const cpuBefore = serverCpuMicros(target);
  const commands = await RedisCommandWindow.open(bench.redis);
  const result = await runHttpLoad({ ...load, durationSeconds: roundSeconds });
  const window = await commands.close();
  const cpuMicros = serverCpuMicros(target) - cpuBefore;
  const background = (idleRedisCommandsPerSecond * window.elapsedMs) / 1000;
  return {
    label: target.label,
    round,
    requestsPerSecond: result.requestsPerSecond,
    p50Ms: result.p50Ms,
    p99Ms: result.p99Ms,
    cpuMicrosPerRequest: cpuMicros / result.requests,
    redisCommandsPerRequest: Math.max(0, window.commands - background) / result.requests,
    requests: result.requests,
    failures: result.non2xx + result.errors,
  };
}

/** CPU time of a target's process; fails with its exit and last output if it is gone. */
function serverCpuMicros(target: Target): number {
  const { process: server } = target;
  if (server.running) {
    try {
      return processCpuMicros(server.pid);
    } catch {
      // Exited meanwhile: reported below.
    }
  }
  const exit = server.exitInfo;
  throw new Error(
    `${target.label} (pid ${server.pid}) is no longer running (code ${exit?.code}, signal ${exit?.signal}); last output:\n${server.tail()}`,
  );
}

async function startTargets(
  bench: BenchEnvironment,
  stops: (() => Promise<unknown>)[],
): Promise<Target[]> {
  const configs = ADAPTERS.flatMap((adapter) =>
    STRATEGIES.map((strategy) => ({ adapter, strategy })),
  );
  const replicas = await Promise.all(
    configs.map(({ adapter, strategy }) =>
      startApiReplica(bench, {
        adapter,
        strategy,
        name: `bench-${adapter}-${strategy}`,
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

  const targets: Target[] = configs.map(({ adapter, strategy }, i) => {
    const replica = replicas[i] as (typeof replicas)[number];
    return {
      label: configLabel(adapter, strategy),
      url: replica.url,
      process: replica.process,
      tokens,
    };
  });
  targets.push(await textbook);
  await assertTokensAccepted(targets);
  return targets;
}

/** Fails unless every target answers `GET /me` with 200 for each of its tokens. */
export async function assertTokensAccepted(targets: readonly Target[]): Promise<void> {
  for (const target of targets) {
    const client = new ApiClient(target.url);
    try {
      for (const token of target.tokens) {
        const answer = await client.request('GET', '/me', { token });
        if (answer.status !== 200) {
          throw new Error(`${target.label}: GET /me answered ${answer.status} ${answer.body}`);
        }
      }
    } finally {
      client.close();
    }
  }
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
