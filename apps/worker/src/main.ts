import {
  loadWorkerConfig,
  resolveLogFormat,
  runWithConfig,
  type WorkerConfig,
} from '@rescind/config';
import {
  type ConnectionLogger,
  createCommandClient,
  RedisKeys,
  createRedisClient,
  logErrorsOncePerOutage,
  type RedisClient,
  RegionBridge,
  RevocationStore,
  SessionStore,
} from '@rescind/revocation-redis';
import { Queue, Worker } from 'bullmq';
import { TidyProcessor } from './tidy.processor';
import { WorkerMetrics } from './worker-metrics';
import { jsonLine, prettyLine, type WorkerLogLevel } from './worker-log';

/** JSON lines until the configuration says otherwise (`LOG_FORMAT`). */
let format = jsonLine;

function log(level: WorkerLogLevel, msg: string, extra: Record<string, unknown> = {}): void {
  process.stdout.write(format({ time: new Date(), level, msg, extra }));
}

/** The clients' connection changes, once per change of state, as JSON lines. */
const connectionLogger: ConnectionLogger = {
  warn: (message) => log('warn', message),
  log: (message) => log('info', message),
};

async function main(config: WorkerConfig): Promise<void> {
  if (resolveLogFormat(config.logFormat, process.stdout.isTTY) === 'pretty') format = prettyLine;
  const keys = new RedisKeys(config.keyPrefix);
  const redis = createCommandClient(
    config.redisTopology,
    'rescind-worker',
    { enableOfflineQueue: true, maxRetriesPerRequest: 3 },
    connectionLogger,
  );
  await redis.connect();
  const region = config.region === undefined ? {} : { region: config.region };
  const store = new RevocationStore(redis, keys, region);
  const processor = new TidyProcessor(
    store,
    undefined,
    undefined,
    new SessionStore(redis, keys, region),
  );
  const metrics = new WorkerMetrics();
  // One bridge per peer region, each following that region's log (docs/design.md, "Several
  // regions"); a peer's absence never stops this region serving.
  const bridges = config.peerRegions.map(
    (peer) =>
      new RegionBridge(peer, store, redis, keys, { logger: connectionLogger }, (count) =>
        metrics.bridgeApplied.inc({ peer: peer.name }, count),
      ),
  );
  // Registered even without peers, so that the rules reading them find them (with no series).
  metrics.watchBridges(() => bridges.map((bridge) => bridge.status()));
  for (const bridge of bridges) bridge.start();
  const metricsServer = metrics.serve(config.workerMetricsPort, (error) =>
    log('warn', 'metrics endpoint unavailable', { error: error.message }),
  );

  // BullMQ needs its own blocking connections; it must retry forever rather than give up.
  const connection = (connectionName: string): RedisClient =>
    createRedisClient(
      config.redisTopology,
      { connectionName, maxRetriesPerRequest: null, lazyConnect: false },
      connectionLogger,
    );
  const queueConnection = connection('rescind-worker-queue');
  const queue = new Queue(keys.maintenanceQueue, {
    connection: queueConnection,
    prefix: config.keyPrefix,
  });
  // The queue's errors are its connection's, whose changes the line above already logs.
  queue.on('error', () => undefined);
  // Upsert again now and then: a Redis that lost its data (restart without persistence, failover)
  // loses the scheduler too. The upsert is idempotent.
  const schedule = (): Promise<unknown> =>
    queue.upsertJobScheduler(
      keys.tidyJob,
      { every: config.tidyIntervalMs },
      {
        name: keys.tidyJob,
        opts: {
          removeOnComplete: 100,
          removeOnFail: 100,
          attempts: 5,
          backoff: { type: 'exponential', delay: 500 },
        },
      },
    );
  await schedule();
  const rescheduler = setInterval(
    () => {
      schedule().catch((error: unknown) =>
        log('warn', 'could not schedule', { error: String(error) }),
      );
    },
    Math.max(1000, config.tidyIntervalMs),
  );
  const workerConnection = connection('rescind-worker-jobs');
  const worker = new Worker(
    keys.maintenanceQueue,
    async (job) => {
      if (job.name !== keys.tidyJob) throw new Error(`unknown job ${job.name}`);
      const end = metrics.jobDuration.startTimer({ job: job.name });
      try {
        const totals = await processor.run();
        end({ outcome: 'completed' });
        metrics.tidied.inc({ structure: 'index' }, totals.indexRemoved);
        metrics.tidied.inc({ structure: 'log' }, totals.logTrimmed);
        metrics.tidied.inc({ structure: 'sessions' }, totals.sessionsRemoved);
        metrics.tidied.inc({ structure: 'refresh-tokens' }, totals.refreshTokensRemoved);
        if (totals.indexRemoved + totals.logTrimmed + totals.sessionsRemoved > 0) {
          log('info', 'tidied', { ...totals });
        }
        return totals;
      } catch (error) {
        end({ outcome: 'failed' });
        metrics.jobFailures.inc({ job: job.name });
        throw error;
      }
    },
    { connection: workerConnection, prefix: config.keyPrefix, concurrency: 1 },
  );
  worker.on('failed', (job, error) =>
    log('warn', 'job failed', { job: job?.name, error: error.message }),
  );
  // BullMQ re-emits each failed reconnection of the worker's connections here, including the
  // blocking one it makes itself and no line above covers: once per outage.
  logErrorsOncePerOutage(worker, workerConnection, 'BullMQ worker', connectionLogger);
  await worker.waitUntilReady();
  // Tidy once at start-up too, so that a restarted worker does not wait a whole interval.
  await queue.add(keys.tidyJob, {}, { removeOnComplete: 100, removeOnFail: 100, attempts: 5 });
  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log('info', `${signal}: stopping`);
    clearInterval(rescheduler);
    await Promise.all(bridges.map((bridge) => bridge.stop()));
    await worker.close(); // waits for the running job to finish
    await queue.close();
    await redis.quit();
    metricsServer?.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  // Only once a stop is handled: whoever waits for this line may signal at once.
  log('info', 'worker ready', {
    queue: keys.maintenanceQueue,
    everyMs: config.tidyIntervalMs,
    ...region,
    peers: config.peerRegions.map((peer) => peer.name),
  });
}

runWithConfig('rescind worker', loadWorkerConfig, main);
