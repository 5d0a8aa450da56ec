// `npm start`: the whole local stack (Redis, worker, API replicas) in one terminal.
import { readFileSync } from 'node:fs';
import { ConfigError, loadWorkerConfig, type WorkerConfig } from '@rescind/config';
import { HarnessError, describeExit, repoRoot } from '@rescind/testing';
import { formatBanner } from './banner';
import { type RunningStack, Stack } from './stack';
import { parseStackConfig, type StackConfig } from './stack-config';
import { StackError } from './stack.error';

const EXIT_OK = 0;
const EXIT_FAILURE = 1;
const EXIT_BAD_CONFIG = 2;

async function main(): Promise<number> {
  let config: StackConfig;
  let worker: WorkerConfig;
  try {
    config = parseStackConfig(process.env, { stdoutIsTty: process.stdout.isTTY });
    // The worker reads the same environment: a bad variable stops the stack before it starts.
    worker = loadWorkerConfig(process.env);
  } catch (error) {
    return fail(error, EXIT_BAD_CONFIG);
  }

  const stack = new Stack({ config });
  let signalled = false;
  let stopRequested: (signal: NodeJS.Signals) => void = () => undefined;
  const stopSignal = new Promise<NodeJS.Signals>((resolve) => (stopRequested = resolve));
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    // Repeated Ctrl-C does nothing more: stopping is already bounded (SIGKILL after 10 s).
    process.on(signal, () => {
      signalled = true;
      stopRequested(signal);
    });
  }
  const stopped = stopSignal.then(async (signal) => {
    console.log(`rescind: ${signal} received, stopping…`);
    await stack.stop();
    console.log('rescind: stopped');
    return EXIT_OK;
  });

  let running: RunningStack | undefined;
  try {
    running = await Promise.race([stack.start(), stopped.then(() => undefined)]);
  } catch (error) {
    // A start-up cut short by Ctrl-C is a clean stop, not a failure.
    return signalled ? stopped : fail(error, EXIT_FAILURE);
  }
  if (!running) return stopped;
  const version = (
    JSON.parse(readFileSync(`${repoRoot()}/package.json`, 'utf8')) as { version: string }
  ).version;
  const banner = formatBanner(running, {
    version,
    adminApiKey: config.adminApiKey,
    workerMetricsPort: worker.workerMetricsPort,
    tidyIntervalMs: worker.tidyIntervalMs,
    region: worker.region,
    peerRegions: worker.peerRegions.map((peer) => peer.name),
  });
  console.log(['', ...banner].join('\n'));

  return Promise.race([
    stopped,
    stack.failed.then(async ({ name, exit }) => {
      console.error(
        `rescind: ${name} exited unexpectedly (${describeExit(exit)}); stopping the stack`,
      );
      await stack.stop();
      return EXIT_FAILURE;
    }),
  ]);
}

function fail(error: unknown, code: number): number {
  const known =
    error instanceof StackError || error instanceof HarnessError || error instanceof ConfigError;
  console.error(known ? `rescind: ${error.message}` : error);
  return code;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(EXIT_FAILURE);
  },
);
