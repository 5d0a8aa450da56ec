import { mkdir, readFile, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { RedisKeys, RevocationStore } from '@rescind/revocation-redis';
import { RedisServer, repoRoot } from '@rescind/testing';
import { Redis } from 'ioredis';
import { pubsubBufferLimit } from './redis-probe';
import { writeScaleCharts } from './scale-charts';
import {
  cellSeconds,
  parseScaleOptions,
  poolCacheEntries,
  type ScaleOptions,
  STORM_SECONDS_MAX,
} from './scale-options';
import { formatReport, type ScaleResults } from './scale-report';
import {
  type ColdStartStorm,
  type FanOutCell,
  type ReconnectStorm,
  runColdStartStorm,
  runFanOutCell,
  runReconnectStorm,
  type ScaleContext,
  startPool,
} from './scenarios';

const log = (line: string): void => console.log(line);

async function runMatrix(context: ScaleContext, options: ScaleOptions): Promise<FanOutCell[]> {
  const cells: FanOutCell[] = [];
  for (const replicas of options.replicas) {
    const keys = new RedisKeys(`scale-m${replicas}`);
    const full = Math.min(options.fullReplicas ?? replicas, replicas);
    const { pool, readyMs } = await startPool(
      context,
      replicas,
      keys.prefix,
      poolCacheEntries(options, replicas),
      full,
    );
    log(
      `matrix: ${replicas} replicas (${full} full, ${replicas - full} wire) ready in ` +
        `${(readyMs / 1000).toFixed(1)} s`,
    );
    const store = new RevocationStore(context.admin, keys);
    try {
      for (const rate of options.rates) {
        const seconds = cellSeconds(options, replicas, rate);
        const cell = await runFanOutCell(context, pool, store, rate, seconds);
        cells.push(cell);
        log(
          `  ${replicas} × ${rate}/s for ${cell.seconds.toFixed(1)} s: fan-out p99 ` +
            `${cell.fanOut.p99Ms?.toFixed(1) ?? '-'} ms (full ` +
            `${cell.fanOutFull.p99Ms?.toFixed(1) ?? '-'}, wire ` +
            `${cell.fanOutWire.p99Ms?.toFixed(1) ?? '-'}), lost ${cell.lost}, ` +
            `Redis ${cell.redis.cores.toFixed(2)} cores`,
        );
      }
    } finally {
      await pool.stop();
    }
  }
  return cells;
}

async function runStorms(context: ScaleContext, options: ScaleOptions): Promise<ReconnectStorm[]> {
  const storms: ReconnectStorm[] = [];
  const seconds = options.quick ? STORM_SECONDS_MAX / 2 : STORM_SECONDS_MAX;
  for (const replicas of options.stormReplicas) {
    const keys = new RedisKeys(`scale-s${replicas}`);
    const { pool } = await startPool(
      context,
      replicas,
      keys.prefix,
      poolCacheEntries(options, replicas),
    );
    const store = new RevocationStore(context.admin, keys);
    try {
      const storm = await runReconnectStorm(context, pool, store, keys, options.stormRate, seconds);
      storms.push(storm);
      log(
        `storm: ${replicas} replicas (${storm.killed} killed) in sync after ` +
          `${storm.timeToSyncMs.toFixed(0)} ms (all subscribed after ` +
          `${storm.timeToSubscribedMs.toFixed(0)} ms), lost ${storm.lost}`,
      );
    } finally {
      await pool.stop();
    }
  }
  return storms;
}

/** `--report <results.json>`: prints the report of a recorded run and redraws its charts. */
async function report(file: string): Promise<void> {
  const results = JSON.parse(await readFile(file, 'utf8')) as ScaleResults;
  log(formatReport(results));
  const quick = path.basename(file).includes('quick');
  const charts = await writeScaleCharts(path.dirname(file), results, quick ? '-quick' : '');
  log(`wrote ${charts.join(', ')}`);
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === '--report') {
    if (argv[1] === undefined) throw new Error('usage: --report <results.json>');
    return report(argv[1]);
  }
  const root = repoRoot();
  const options = parseScaleOptions(argv, path.join(root, 'load-tests/scale'));
  const startedAt = new Date();
  // No persistence: Redis CPU is then the work of serving replicas and writes, nothing else.
  const server = await RedisServer.start({
    appendonly: false,
    extraArgs: ['--maxclients', '20000'],
  });
  const admin = new Redis(server.url, { maxRetriesPerRequest: 3 });
  const context: ScaleContext = { redisUrl: server.url, admin, workers: options.workers, log };
  const interrupt = (): void => {
    void server.dispose().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupt);
  try {
    const limit = await pubsubBufferLimit(admin);
    log(
      `scale: ${options.quick ? 'quick' : 'full'} run, redis-server ${server.port}, ` +
        `${options.workers} workers, ${os.cpus().length} cores`,
    );
    const matrix = options.skip.has('matrix') ? [] : await runMatrix(context, options);
    const storms = options.skip.has('storm') ? [] : await runStorms(context, options);
    let cold: ColdStartStorm | undefined;
    if (!options.skip.has('cold')) {
      log(`cold start: ${options.coldReplicas} replicas × ${options.coldRevocations} revocations`);
      cold = await runColdStartStorm(context, options.coldReplicas, options.coldRevocations);
    }
    const results: ScaleResults = {
      startedAt: startedAt.toISOString(),
      seconds: (Date.now() - startedAt.getTime()) / 1000,
      command: `node dist/load-tests/scale/src/main.js ${process.argv.slice(2).join(' ')}`.trim(),
      machine: { cores: os.cpus().length, loadAverage: os.loadavg() },
      options: { ...options, skip: [...options.skip] },
      pubsubBufferLimit: limit,
      matrix,
      storms,
      cold,
    };
    log('');
    log(formatReport(results));
    await mkdir(options.outDir, { recursive: true });
    const name = options.quick ? 'results-quick.json' : 'results.json';
    await writeFile(path.join(options.outDir, name), JSON.stringify(results, null, 2) + '\n');
    const charts = await writeScaleCharts(options.outDir, results, options.quick ? '-quick' : '');
    log(`wrote ${path.join(options.outDir, name)} and ${charts.join(', ')}`);
  } finally {
    admin.disconnect();
    await server.dispose();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
