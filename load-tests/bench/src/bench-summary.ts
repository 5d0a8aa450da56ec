import { type BenchOptions } from './bench-options';
import { type HttpAdapter } from './bench-environment';
import { externalLabel, type ExternalReport, formatLatencies } from './external.section';
import { type FanOutReport } from './fan-out.section';
import { type HydrationMeasurement } from './hydration.section';
import { LOGIN_VERIFY, type MicroResult } from './micro.section';
import { formatFixed, formatInt, median } from './stats';
import { type ThroughputReport } from './rounds';
import {
  configLabel,
  FLOOR_AT_INFO_LABEL,
  FLOOR_LABEL,
  LOCAL_AT_INFO_LABEL,
  TEXTBOOK_LABEL,
} from './throughput.section';

/** Everything one run measured; sections skipped with `--skip` are absent. */
export interface BenchReport {
  readonly options: BenchOptions;
  readonly throughput?: ThroughputReport;
  readonly external?: ExternalReport;
  readonly fanOut?: FanOutReport;
  readonly hydration?: readonly HydrationMeasurement[];
  readonly micro?: readonly MicroResult[];
  readonly elapsedSeconds: number;
}

/** One target (load-tests/bench/README.md, "Targets") and whether this run met it. */
interface TargetCheck {
  readonly target: string;
  readonly measured: string;
  readonly verdict: 'PASS' | 'FAIL' | 'n/a';
}

const ADAPTERS: readonly HttpAdapter[] = ['fastify', 'express'];

/**
 * The median of two configurations' per-round ratios (`paired`; each pair is measured back to
 * back, so this is the figure checked against the targets), and the ratio of their medians.
 */
function ratio(
  report: ThroughputReport,
  numerator: string,
  denominator: string,
  metric: 'requestsPerSecond' | 'cpuMicrosPerRequest',
): { ofMedians: number; paired: number } {
  const a = report.medians.get(numerator);
  const b = report.medians.get(denominator);
  const pairs: number[] = [];
  for (const round of new Set(report.rounds.map((r) => r.round))) {
    const x = report.rounds.find((r) => r.round === round && r.label === numerator);
    const y = report.rounds.find((r) => r.round === round && r.label === denominator);
    if (x && y) pairs.push(x[metric] / y[metric]);
  }
  return {
    ofMedians: a && b ? a[metric] / b[metric] : NaN,
    paired: pairs.length > 0 ? median(pairs) : NaN,
  };
}

function verdict(ok: boolean | undefined): TargetCheck['verdict'] {
  return ok === undefined ? 'n/a' : ok ? 'PASS' : 'FAIL';
}

/** Prints the ratios and the final block of headline figures and targets. */
export function printSummary(report: BenchReport): void {
  const checks: TargetCheck[] = [];
  const lines: string[] = [];
  const t = report.throughput;

  if (t) {
    console.log(
      '\n== Ratios (median of the per-round ratios, each pair measured back to back: the checked figure; ratio of medians in brackets)',
    );
    for (const adapter of ADAPTERS) {
      const local = configLabel(adapter, 'local');
      const none = configLabel(adapter, 'none');
      const rps = ratio(t, local, none, 'requestsPerSecond');
      const cpu = ratio(t, local, none, 'cpuMicrosPerRequest');
      const redis = ratio(t, configLabel(adapter, 'redis'), none, 'requestsPerSecond');
      console.log(
        `   ${adapter.padEnd(8)} local/none req/s ${formatFixed(rps.paired, 3)}× [${formatFixed(rps.ofMedians, 3)}×]   CPU/req ${formatFixed(cpu.paired, 3)}× [${formatFixed(cpu.ofMedians, 3)}×]   redis/none req/s ${formatFixed(redis.paired, 3)}× [${formatFixed(redis.ofMedians, 3)}×]`,
      );
      lines.push(
        `${adapter}: local/none = ${formatFixed(rps.paired, 2)}× req/s, ${formatFixed(cpu.paired, 2)}× CPU/req`,
      );
      checks.push({
        target: `${adapter}: local ≥ 0.95× none req/s`,
        measured: `${formatFixed(rps.paired, 3)}× [of medians ${formatFixed(rps.ofMedians, 3)}×]`,
        verdict: verdict(rps.paired >= 0.95),
      });
      checks.push({
        target: `${adapter}: local ≤ 1.05× none CPU/req`,
        measured: `${formatFixed(cpu.paired, 3)}× [of medians ${formatFixed(cpu.ofMedians, 3)}×]`,
        verdict: verdict(cpu.paired <= 1.05),
      });
    }
    const perRequest = (label: string): number =>
      t.medians.get(label)?.redisCommandsPerRequest ?? NaN;
    const commands = [...t.medians.keys()]
      .map((label) => `${label} ${formatFixed(perRequest(label), 3)}`)
      .join(', ');
    console.log(`   Redis commands per request: ${commands}`);
    lines.push(
      `Redis commands/request: local ${formatFixed(perRequest('fastify/local'), 3)} / ${formatFixed(perRequest('express/local'), 3)}, redis ${formatFixed(perRequest('fastify/redis'), 3)} / ${formatFixed(perRequest('express/redis'), 3)}, textbook ${formatFixed(perRequest(TEXTBOOK_LABEL), 3)} (fastify / express)`,
    );
    const localCommands = Math.max(perRequest('fastify/local'), perRequest('express/local'));
    checks.push({
      target: 'local: 0 Redis commands per guarded request',
      measured: `${formatFixed(localCommands, 4)} (net of idle background)`,
      verdict: verdict(localCommands < 0.001),
    });
    const redisCommands = [perRequest('fastify/redis'), perRequest('express/redis')];
    checks.push({
      target: 'redis: 1 Redis command per request',
      measured: redisCommands.map((c) => formatFixed(c, 3)).join(' / '),
      verdict: verdict(redisCommands.every((c) => Math.abs(c - 1) < 0.05)),
    });
    const vsTextbook = ratio(t, 'fastify/local', TEXTBOOK_LABEL, 'requestsPerSecond');
    const cpuVsTextbook = ratio(t, 'fastify/local', TEXTBOOK_LABEL, 'cpuMicrosPerRequest');
    console.log(
      `   fastify/local vs textbook: ${formatFixed(vsTextbook.paired, 2)}× req/s [${formatFixed(vsTextbook.ofMedians, 2)}×], ${formatFixed(cpuVsTextbook.paired, 3)}× CPU/req [${formatFixed(cpuVsTextbook.ofMedians, 3)}×]`,
    );
    lines.push(
      `fastify+local vs textbook: ${formatFixed(vsTextbook.paired, 1)}× req/s (medians ${formatInt(t.medians.get('fastify/local')?.requestsPerSecond ?? NaN)} vs ${formatInt(t.medians.get(TEXTBOOK_LABEL)?.requestsPerSecond ?? NaN)})`,
    );
    checks.push({
      target: 'fastify+local ≥ 10× textbook req/s',
      measured: `${formatFixed(vsTextbook.paired, 2)}× [of medians ${formatFixed(vsTextbook.ofMedians, 2)}×]`,
      verdict: verdict(vsTextbook.paired >= 10),
    });
    summarizeDefaultLevel(t, lines, checks);
  }

  const e = report.external;
  if (e) summarizeExternal(e, lines, checks);

  const f = report.fanOut;
  if (f) {
    lines.push(
      `fan-out: idle p50 ${formatFixed(f.idle.p50Ms, 2)} / p99 ${formatFixed(f.idle.p99Ms, 2)} / max ${formatFixed(f.idle.maxMs, 2)} ms; under load p50 ${formatFixed(f.loaded.p50Ms, 2)} / p99 ${formatFixed(f.loaded.p99Ms, 2)} / max ${formatFixed(f.loaded.maxMs, 2)} ms`,
    );
    checks.push(
      {
        target: 'fan-out idle p50 ≤ 2 ms',
        measured: `${formatFixed(f.idle.p50Ms, 2)} ms`,
        verdict: verdict(f.idle.p50Ms <= 2),
      },
      {
        target: 'fan-out idle p99 ≤ 10 ms',
        measured: `${formatFixed(f.idle.p99Ms, 2)} ms`,
        verdict: verdict(f.idle.p99Ms <= 10),
      },
      {
        target: 'fan-out under load p99 ≤ 50 ms',
        measured: `${formatFixed(f.loaded.p99Ms, 2)} ms at ${formatInt(f.loaded.backgroundRequestsPerSecond ?? NaN)} req/s`,
        verdict: verdict(f.loaded.p99Ms <= 50),
      },
    );
  }

  const h = report.hydration;
  if (h) {
    for (const m of h) {
      lines.push(
        `hydration ${formatInt(m.entries)}: ready ${formatFixed(m.spawnToReadyMs / 1000, 2)} s after spawn (${formatFixed(m.listeningToReadyMs / 1000, 2)} s after listening), in-process ${formatFixed(m.probe.hydrateMs / 1000, 2)} s; ${formatFixed(m.bytesPerEntry, 0)} B/entry (${formatFixed(m.marginalBytesPerEntry, 0)} beyond preallocation)`,
      );
    }
    const million = h.find((m) => m.entries === 1_000_000);
    checks.push(
      {
        target: 'hydration of 1M ≤ 5 s (replica spawn → ready)',
        measured: million
          ? `${formatFixed(million.spawnToReadyMs / 1000, 2)} s (in-process ${formatFixed(million.probe.hydrateMs / 1000, 2)} s)`
          : 'not measured (--quick)',
        verdict: verdict(million && million.spawnToReadyMs <= 5000),
      },
      {
        target: 'hydration of 1M ≤ 150 B/entry of heap',
        measured: million
          ? `${formatFixed(million.bytesPerEntry, 1)} B/entry`
          : 'not measured (--quick)',
        verdict: verdict(million && million.bytesPerEntry <= 150),
      },
    );
  }

  const micro = report.micro;
  if (micro) {
    const find = (prefix: string): number =>
      micro.find((r) => r.name.startsWith(prefix))?.nsPerOp ?? NaN;
    lines.push(
      `micro: cache.check hit ${formatFixed(find('RevocationCache.check, hit'), 0)} ns, miss ${formatFixed(find('RevocationCache.check, miss'), 0)} ns; jsonwebtoken verify string ${formatFixed(find('jsonwebtoken.verify, HS256, string') / 1000, 1)} µs vs KeyObject ${formatFixed(find('jsonwebtoken.verify, HS256, crypto') / 1000, 1)} µs`,
    );
    const login = find(LOGIN_VERIFY);
    lines.push(
      `login: Argon2id verify ${formatFixed(login / 1e6, 1)} ms of one core → ${formatFixed(1e9 / login, 0)} logins/s per core`,
    );
  }

  const width = 46;
  console.log(`\n${'='.repeat(100)}`);
  console.log(
    `SUMMARY (${report.options.quick ? 'quick' : 'full'} run, ${formatFixed(report.elapsedSeconds, 0)} s)`,
  );
  for (const line of lines) console.log(`  ${line}`);
  console.log('\n  targets:');
  for (const check of checks) {
    console.log(`  ${check.verdict.padEnd(5)} ${check.target.padEnd(width)} ${check.measured}`);
  }
  console.log('='.repeat(100));
}

/**
 * The default configuration (`LOG_LEVEL=info`, one access line per request) against the quiet one
 * and the textbook guard, and the guard's whole cost against the floor (`GET /bench/floor`, the
 * same work without the guard, on the same server) at both levels.
 */
function summarizeDefaultLevel(t: ThroughputReport, lines: string[], checks: TargetCheck[]): void {
  const local = configLabel('fastify', 'local');
  const both = (a: string, b: string): string => {
    const rps = ratio(t, a, b, 'requestsPerSecond');
    const cpu = ratio(t, a, b, 'cpuMicrosPerRequest');
    return `req/s ${formatFixed(rps.paired, 3)}× [${formatFixed(rps.ofMedians, 3)}×], CPU/req ${formatFixed(cpu.paired, 3)}× [${formatFixed(cpu.ofMedians, 3)}×]`;
  };
  const cpuOf = (label: string): number => t.medians.get(label)?.cpuMicrosPerRequest ?? NaN;
  console.log(
    '\n== The default level and the floor (fastify; @info: LOG_LEVEL=info, the default, one access line per request; the rest at warn)',
  );
  console.log(`   local@info vs local@warn:  ${both(LOCAL_AT_INFO_LABEL, local)}`);
  console.log(`   local@info vs textbook:    ${both(LOCAL_AT_INFO_LABEL, TEXTBOOK_LABEL)}`);
  console.log(
    `   guard's whole cost, local vs floor (GET /bench/floor, same server): at warn ${both(local, FLOOR_LABEL)}; at info ${both(LOCAL_AT_INFO_LABEL, FLOOR_AT_INFO_LABEL)}`,
  );
  console.log(
    `   CPU µs/request (medians): floor ${formatFixed(cpuOf(FLOOR_LABEL), 1)}, local ${formatFixed(cpuOf(local), 1)} (guard ${formatFixed(cpuOf(local) - cpuOf(FLOOR_LABEL), 1)}); floor@info ${formatFixed(cpuOf(FLOOR_AT_INFO_LABEL), 1)}, local@info ${formatFixed(cpuOf(LOCAL_AT_INFO_LABEL), 1)} (access line ${formatFixed(cpuOf(LOCAL_AT_INFO_LABEL) - cpuOf(local), 1)})`,
  );
  const infoVsWarn = ratio(t, LOCAL_AT_INFO_LABEL, local, 'requestsPerSecond');
  const infoVsTextbook = ratio(t, LOCAL_AT_INFO_LABEL, TEXTBOOK_LABEL, 'requestsPerSecond');
  const guard = ratio(t, local, FLOOR_LABEL, 'requestsPerSecond');
  const guardCpu = ratio(t, local, FLOOR_LABEL, 'cpuMicrosPerRequest');
  lines.push(
    `fastify+local@info (the default level): ${formatFixed(infoVsWarn.paired, 2)}× local@warn req/s, ${formatFixed(infoVsTextbook.paired, 1)}× textbook (medians ${formatInt(t.medians.get(LOCAL_AT_INFO_LABEL)?.requestsPerSecond ?? NaN)} vs ${formatInt(t.medians.get(TEXTBOOK_LABEL)?.requestsPerSecond ?? NaN)})`,
    `guard's whole cost (local vs floor, warn): ${formatFixed(guard.paired, 2)}× req/s, ${formatFixed(guardCpu.paired, 2)}× CPU/req (floor ${formatInt(t.medians.get(FLOOR_LABEL)?.requestsPerSecond ?? NaN)} req/s)`,
  );
  checks.push(
    {
      target: 'fastify+local@info ≥ 0.8× local@warn req/s',
      measured: `${formatFixed(infoVsWarn.paired, 3)}× [of medians ${formatFixed(infoVsWarn.ofMedians, 3)}×]`,
      verdict: verdict(infoVsWarn.paired >= 0.8),
    },
    {
      target: 'fastify+local@info ≥ 10× textbook req/s',
      measured: `${formatFixed(infoVsTextbook.paired, 2)}× [of medians ${formatFixed(infoVsTextbook.ofMedians, 2)}×]`,
      verdict: verdict(infoVsTextbook.paired >= 10),
    },
  );
}

/** The external issuer's ratios (printed, not checked: the targets are our own tokens'). */
function summarizeExternal(e: ExternalReport, lines: string[], checks: TargetCheck[]): void {
  const t = e.throughput;
  if (t) {
    console.log(
      '\n== External issuer ratios (fastify; median of the per-round ratios of back-to-back pairs; ratio of medians in brackets)',
    );
    const parts: string[] = [];
    for (const alg of ['ES256', 'RS256'] as const) {
      const local = externalLabel(alg, 'local');
      const rps = ratio(t, local, externalLabel(alg, 'none'), 'requestsPerSecond');
      const cpu = ratio(t, local, externalLabel(alg, 'none'), 'cpuMicrosPerRequest');
      const own = ratio(t, local, externalLabel('HS256', 'local'), 'requestsPerSecond');
      const ownCpu = ratio(t, local, externalLabel('HS256', 'local'), 'cpuMicrosPerRequest');
      console.log(
        `   ${alg.padEnd(8)} local/none req/s ${formatFixed(rps.paired, 3)}× [${formatFixed(rps.ofMedians, 3)}×]   CPU/req ${formatFixed(cpu.paired, 3)}× [${formatFixed(cpu.ofMedians, 3)}×]   vs own HS256 local: req/s ${formatFixed(own.paired, 3)}× [${formatFixed(own.ofMedians, 3)}×], CPU/req ${formatFixed(ownCpu.paired, 3)}× [${formatFixed(ownCpu.ofMedians, 3)}×]`,
      );
      parts.push(
        `${alg} local/none ${formatFixed(rps.paired, 2)}× req/s, ${formatFixed(cpu.paired, 2)}× CPU/req (${formatFixed(own.paired, 2)}× own HS256 local req/s)`,
      );
    }
    lines.push(`external issuer (fastify): ${parts.join('; ')}`);
    const commands = Math.max(
      t.medians.get(externalLabel('ES256', 'local'))?.redisCommandsPerRequest ?? NaN,
      t.medians.get(externalLabel('RS256', 'local'))?.redisCommandsPerRequest ?? NaN,
    );
    checks.push({
      target: 'local: 0 Redis commands/request, provider',
      measured: `${formatFixed(commands, 4)} (net of idle background)`,
      verdict: verdict(commands < 0.001),
    });
  }
  const b = e.backChannel;
  if (b) {
    lines.push(
      'unavailable' in b
        ? `back-channel logout: not measured (${b.unavailable})`
        : `back-channel logout → last of 3 replicas rejects: ${formatLatencies(b.lastReplica)} (${b.sessions} sessions, idle)`,
    );
  }
}
