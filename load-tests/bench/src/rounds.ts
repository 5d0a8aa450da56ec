import { setTimeout as sleep } from 'node:timers/promises';
import { type ManagedProcess } from '@rescind/testing';
import { ApiClient } from './api-client';
import { type BenchEnvironment } from './bench-environment';
import { runHttpLoad } from './http-load';
import { processCpuMicros } from './process-cpu';
import { RedisCommandWindow } from './redis-command-counter';
import { formatFixed, formatInt, median } from './stats';

// Alternating measured rounds of `GET /me` against a set of servers, shared by the throughput
// rounds and the external issuer's (load-tests/bench/README.md, "What each section measures").

/** One server under test. */
export interface Target {
  readonly label: string;
  readonly url: string;
  readonly process: ManagedProcess;
  /** Path loaded. @default `/me` */
  readonly path?: string;
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

/** Rounds of a set of configurations, their medians, and the idle Redis rate subtracted. */
export interface ThroughputReport {
  readonly rounds: readonly RoundMeasurement[];
  readonly medians: ReadonlyMap<string, ConfigurationMedians>;
  /** Commands per second Redis executed with every server idle. */
  readonly idleRedisCommandsPerSecond: number;
}

/** The unmeasured warm-up of every configuration before its first round (JIT, pools, memos). */
export async function warmUpTargets(
  bench: BenchEnvironment,
  targets: readonly Target[],
  seconds = bench.options.initialWarmupSeconds,
): Promise<void> {
  for (const target of targets) {
    await runHttpLoad({
      url: targetUrl(target),
      tokens: target.tokens,
      connections: bench.options.connections,
      durationSeconds: seconds,
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
  const load = { url: targetUrl(target), tokens: target.tokens, connections: options.connections };
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

/** The URL a target is loaded on. */
function targetUrl(target: Target): string {
  return `${target.url}${target.path ?? '/me'}`;
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

/** Fails unless every target answers `GET <path>` with 200 for each of its tokens. */
export async function assertTokensAccepted(targets: readonly Target[]): Promise<void> {
  for (const target of targets) {
    const client = new ApiClient(target.url);
    try {
      for (const token of target.tokens) {
        const answer = await client.request('GET', target.path ?? '/me', { token });
        if (answer.status !== 200) {
          throw new Error(
            `${target.label}: GET ${target.path ?? '/me'} answered ${answer.status} ${answer.body}`,
          );
        }
      }
    } finally {
      client.close();
    }
  }
}
