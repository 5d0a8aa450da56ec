import { join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { type BatchReport, type FailedSeed, runBatch } from './seed-batch';
import { type RunOptions } from './simulation';

/** How to run many schedules. */
export interface ParallelOptions {
  /** First seed. */
  readonly from: number;
  /** Schedules to run at most. */
  readonly count: number;
  /** Worker threads (0: this thread). */
  readonly workers: number;
  /** Hand out no more seeds after this long. */
  readonly deadlineMs?: number;
  /** Stop at the first failing seed. */
  readonly stopOnFailure?: boolean;
  /** Seeds per message to a worker. @default 100 */
  readonly chunk?: number;
  /** How each schedule runs. */
  readonly run?: RunOptions;
  /** Called after every chunk. */
  readonly onProgress?: (schedules: number, elapsedMs: number) => void;
}

/** What a run of many schedules found, and how long it took. */
export interface ParallelReport extends BatchReport {
  readonly elapsedMs: number;
  /**
   * The lowest failing seed (every lower seed ran and passed: chunks go out in seed order), its
   * place in the sequence of seeds, and when it was seen.
   */
  readonly first?: FailedSeed & { readonly schedulesRun: number; readonly atMs: number };
}

/**
 * Loads the TypeScript sources in a worker (under jest, which compiles with SWC only in its own
 * threads): the same SWC transform and the workspace's `@rescind/*` paths.
 */
const SOURCE_LOADER = `
const Module = require('node:module');
const path = require('node:path');
const fs = require('node:fs');
const { workerData } = require('node:worker_threads');
const swc = require(require.resolve('@swc/core', { paths: [workerData.root] }));
const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  const alias = /^@rescind\\/(.*)$/.exec(request);
  const target = alias ? path.join(workerData.root, 'libs', alias[1], 'src/index.ts') : request;
  return resolveFilename.call(this, target, ...rest);
};
require.extensions['.ts'] = (module, filename) => {
  const { code } = swc.transformSync(fs.readFileSync(filename, 'utf8'), {
    filename,
    jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
    module: { type: 'commonjs' },
  });
  module._compile(code, filename);
};
require(workerData.file);
`;

/** A young generation larger than the default: a schedule allocates a few MB of short-lived promises. */
const resourceLimits = { maxYoungGenerationSizeMb: 48 };

function startWorker(): Worker {
  if (__filename.endsWith('.js')) {
    return new Worker(join(__dirname, 'simulation-worker.js'), { resourceLimits });
  }
  return new Worker(SOURCE_LOADER, {
    eval: true,
    resourceLimits,
    workerData: {
      root: resolve(__dirname, '../../../..'),
      file: join(__dirname, 'simulation-worker.ts'),
    },
  });
}

/** Runs schedules `from`… on worker threads, handing out chunks of seeds as workers finish. */
export async function runParallel(options: ParallelOptions): Promise<ParallelReport> {
  const started = performance.now();
  const chunk = options.chunk ?? 100;
  const end = options.from + options.count;
  let next = options.from;
  let schedules = 0;
  const failures: FailedSeed[] = [];
  const known: Record<string, number[]> = {};
  let failedAtMs: number | undefined;
  const seenAt = new Map<number, number>();
  const elapsed = (): number => performance.now() - started;
  const more = (): boolean =>
    next < end &&
    (options.deadlineMs === undefined || elapsed() < options.deadlineMs) &&
    !(options.stopOnFailure === true && failedAtMs !== undefined);
  const take = (): number[] => {
    const seeds: number[] = [];
    for (; seeds.length < chunk && next < end; next++) seeds.push(next);
    return seeds;
  };
  const merge = (report: BatchReport): void => {
    schedules += report.schedules;
    failures.push(...report.failures);
    for (const [finding, seeds] of Object.entries(report.known)) {
      (known[finding] ??= []).push(...seeds);
    }
    for (const failure of report.failures) seenAt.set(failure.seed, elapsed());
    if (report.failures.length > 0) failedAtMs ??= elapsed();
    options.onProgress?.(schedules, elapsed());
  };

  if (options.workers <= 0) {
    while (more()) merge(await runBatch(take(), options.run));
  } else {
    await Promise.all(
      Array.from({ length: options.workers }, async () => {
        const worker = startWorker();
        try {
          while (more()) {
            const seeds = take();
            const report = await new Promise<BatchReport>((resolveReport, reject) => {
              worker.once('message', resolveReport);
              worker.once('error', reject);
              worker.postMessage({ seeds, options: options.run ?? {} });
            });
            worker.removeAllListeners('error');
            merge(report);
          }
        } finally {
          await worker.terminate();
        }
      }),
    );
  }
  failures.sort((a, b) => a.seed - b.seed);
  const lowest = failures[0];
  const first =
    lowest === undefined
      ? undefined
      : {
          ...lowest,
          schedulesRun: lowest.seed - options.from + 1,
          atMs: seenAt.get(lowest.seed) as number,
        };
  return { schedules, failures, known, elapsedMs: elapsed(), ...(first ? { first } : {}) };
}
