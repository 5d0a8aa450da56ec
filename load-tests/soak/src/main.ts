import * as os from 'node:os';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { FaultSchedule } from './fault-schedule';
import { MixedLoad } from './mixed-load';
import { rssMiB } from './process-rss';
import { parseSoakOptions, type SoakOptions } from './soak-options';
import { SoakStack } from './soak-stack';
import { formatSoakSummary, judgeSoak, type RssFigures } from './soak-summary';

/** How often the RSS of each process is sampled for its maximum. */
const RSS_SAMPLE_MS = 10_000;
/** How often a progress line is printed. */
const PROGRESS_MS = 30_000;

// `node dist/load-tests/soak/src/main.js [--minutes 5]` from the repository root, after
// `npm run build`: the "load held" soak. Exits 1 on any violation.
async function main(options: SoakOptions): Promise<number> {
  console.log(
    `Rescind soak: ${options.minutes} min of mixed load at ${options.rate} req/s, ${options.concurrency} in flight, ` +
      `pub/sub killed every ${options.pubsubKillEverySeconds} s, Redis crashed and restarted every ${options.redisRestartEverySeconds} s ` +
      `(node ${process.version}, ${os.cpus().length} CPUs, ${new Date().toISOString()})`,
  );
  const stack = await SoakStack.start(options.echo);
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    console.error(`\n${signal}: stopping every process the soak started…`);
    void stack.stop().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const load = new MixedLoad({
      urls: stack.urls,
      rate: options.rate,
      concurrency: options.concurrency,
      fanOutBoundMs: options.fanOutBoundMs,
    });
    await load.prepare();
    const processes = [
      ...stack.replicas.map((replica) => ({ name: replica.name, pid: replica.pid })),
      { name: 'worker', pid: stack.worker.pid },
    ];
    const rss: RssFigures[] = processes.map(({ name, pid }) => {
      const start = rssMiB(pid);
      return { name, start, end: Number.NaN, max: start };
    });
    const faults = new FaultSchedule(
      stack,
      options.pubsubKillEverySeconds,
      options.redisRestartEverySeconds,
      (line) => console.log(line),
    );
    const startedAt = performance.now();
    const endAt = startedAt + options.minutes * 60_000;
    load.start();
    faults.start();
    let nextProgress = startedAt + PROGRESS_MS;
    while (performance.now() < endAt) {
      await sleep(Math.min(RSS_SAMPLE_MS, Math.max(0, endAt - performance.now())));
      processes.forEach(({ pid }, index) => {
        const figures = rss[index] as RssFigures;
        figures.max = Math.max(figures.max, rssMiB(pid));
      });
      if (performance.now() >= nextProgress) {
        nextProgress += PROGRESS_MS;
        const seconds = (performance.now() - startedAt) / 1000;
        console.log(
          `  t=${Math.round(seconds)}s ${load.requests.toLocaleString('en-US')} requests of the mix so far`,
        );
      }
    }
    await faults.stop();
    const totals = await load.stop();
    processes.forEach(({ pid }, index) => {
      const figures = rss[index] as RssFigures;
      figures.end = rssMiB(pid);
      figures.max = Math.max(figures.max, figures.end);
    });
    const cacheEntries = await stack.cacheEntries();
    const exited = stack.replicas
      .filter((replica) => !replica.process.running)
      .map((replica) => replica.name);
    const verdict = judgeSoak(totals, faults.faults, exited);
    console.log(
      formatSoakSummary({ options, totals, faults: faults.faults, rss, cacheEntries, verdict }),
    );
    return verdict.violations.length === 0 ? 0 : 1;
  } finally {
    if (!stopping) {
      stopping = true;
      await stack.stop();
    }
  }
}

let options: SoakOptions;
try {
  options = parseSoakOptions(process.argv.slice(2));
} catch (error) {
  console.error((error as Error).message);
  process.exit(2);
}
main(options).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(
      `soak failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
    process.exit(1);
  },
);
