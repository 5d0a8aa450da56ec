import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { RedisServer } from '@rescind/testing';
import { writeBenchCharts } from './bench-charts';
import { type BenchEnvironment } from './bench-environment';
import { parseBenchOptions } from './bench-options';
import { type BenchReport, printSummary } from './bench-summary';
import { CleanupStack } from './cleanup-stack';
import { BenchIssuer } from './bench-issuer';
import { runFanOutSection } from './fan-out.section';
import { runHydrationSection } from './hydration.section';
import { runMicroSection } from './micro.section';
import { loadRevocations } from './revocation-loader';
import { formatFixed, formatInt } from './stats';
import { configLabel, runThroughputSection } from './throughput.section';

/** Request rate assumed for the fan-out background load when the throughput section is skipped. */
const FALLBACK_CAPACITY = 10_000;

/** Runs a section unless skipped, and says how long it took. */
async function section<T>(
  name: string,
  skip: ReadonlySet<string>,
  run: () => Promise<T>,
): Promise<T | undefined> {
  if (skip.has(name)) {
    console.log(`\n(${name}: skipped)`);
    return undefined;
  }
  const startedAt = performance.now();
  const result = await run();
  console.log(`   (${name}: ${formatFixed((performance.now() - startedAt) / 1000, 1)} s)`);
  return result;
}

// `npm run bench [-- --quick]`: the side-by-side benchmark (see ../README.md). Run from the
// repository root after `npm run build`; the npm script does both.
async function main(): Promise<void> {
  const options = parseBenchOptions(process.argv.slice(2));
  const startedAt = performance.now();
  const cleanup = new CleanupStack();
  cleanup.installSignalHandlers();
  console.log(
    `Rescind benchmark (${options.quick ? 'quick' : 'full'}): node ${process.version}, ${formatInt(options.liveRevocations)} live revocations; API replicas at LOG_LEVEL=warn (no access log) except the configurations marked @info (the default level)`,
  );
  try {
    // First, while nothing else of ours runs.
    const micro = await section('micro', options.skip, () => runMicroSection(options));

    const redis = await RedisServer.start({ appendonly: false });
    cleanup.add('redis-server', () => redis.dispose());
    // The external issuer's parts run inside the throughput and fan-out sections, on their servers.
    const issuer = options.skip.has('external') ? undefined : await BenchIssuer.start();
    if (issuer) cleanup.add('bench issuer', () => issuer.stop());
    else console.log('\n(external: skipped)');
    const bench: BenchEnvironment = {
      options,
      redis,
      keyPrefix: `bench${randomBytes(3).toString('hex')}`,
      jwtSecret: `bench-${randomBytes(24).toString('hex')}`,
      cleanup,
      user: { username: 'bench_user', password: 'correct horse battery staple' },
      ...(issuer ? { issuer } : {}),
    };
    const loadMs = await loadRevocations({
      redisUrl: redis.url,
      keyPrefix: bench.keyPrefix,
      count: options.liveRevocations,
      expiresAtMs: Date.now() + 2 * 3600_000,
      method: options.loadMethod,
    });
    console.log(
      `\n== Store: private redis-server ${redis.url} (AOF off), KEY_PREFIX ${bench.keyPrefix}: ${formatInt(options.liveRevocations)} live revocations (expiring in 2 h) loaded ${options.loadMethod === 'store' ? 'with RevocationStore.revoke' : "as records + index entries in the store's formats"} in ${formatFixed(loadMs / 1000, 1)} s`,
    );

    const throughput = await section('throughput', options.skip, () => runThroughputSection(bench));
    const capacity =
      throughput?.medians.get(configLabel('fastify', 'local'))?.requestsPerSecond ??
      FALLBACK_CAPACITY;
    const fanOut = await section('fan-out', options.skip, () => runFanOutSection(bench, capacity));
    const hydration = await section('hydration', options.skip, () => runHydrationSection(bench));

    const report: BenchReport = {
      options,
      throughput,
      external: issuer && { throughput: throughput?.external, backChannel: fanOut?.backChannel },
      fanOut,
      hydration,
      micro,
      elapsedSeconds: (performance.now() - startedAt) / 1000,
    };
    printSummary(report);
    const charts = await writeBenchCharts(report);
    console.log(
      `charts: ${charts.length === 0 ? 'none (their sections were skipped)' : charts.map((chart) => path.relative(process.cwd(), chart)).join(', ')}`,
    );
  } finally {
    await cleanup.runAll();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`\nbenchmark failed: ${error instanceof Error ? error.stack : String(error)}`);
    process.exit(1);
  },
);
