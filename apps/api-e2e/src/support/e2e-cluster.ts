import { randomBytes } from 'node:crypto';
import { ApiReplica, freePort, RedisServer, WorkerProcess } from '@rescind/testing';

/** Signing key every replica of a cluster shares, so that tests can also forge tokens with it. */
export const E2E_JWT_SECRET = 'rescind-e2e-secret-of-at-least-32-bytes!';

/** Environment every process gets: fast password hashing and a known signing key. */
const BASE_ENV: Readonly<Record<string, string>> = {
  NODE_ENV: 'test',
  JWT_SECRET: E2E_JWT_SECRET,
  // scrypt N=1024 keeps hundreds of logins per spec cheap on a 2-core machine.
  PASSWORD_HASH_COST: '1024',
};

/** Options of {@link E2eCluster}. */
export interface E2eClusterOptions {
  /** Names the key prefix, so that a Redis left behind by a crash says which spec it served. */
  name: string;
  /** Number of API replicas. @default 3 */
  replicas?: number;
  /** Environment of every API replica (and of the worker). */
  env?: Record<string, string>;
  /** Further environment per replica, by index (e.g. a different `FAIL_MODE`). */
  replicaEnv?: ReadonlyArray<Record<string, string>>;
  /** Start the worker too, with this further environment. @default not started */
  worker?: Record<string, string>;
  /** Echo every child's output (debugging). @default false */
  echo?: boolean;
  /** How long every replica may take to be ready. @default 30000 */
  readyTimeoutMs?: number;
}

/**
 * One private `redis-server` (AOF on), N API replicas and optionally the worker, started for one
 * spec file. Create it at the top of the spec, `start()` it in `beforeAll` and `stop()` it in
 * `afterAll`: stop() tears down whatever did start, even when start() failed half-way.
 */
export class E2eCluster {
  /** Unique `KEY_PREFIX` of this cluster. */
  readonly prefix: string;
  private redisServer: RedisServer | undefined;
  private readonly apiReplicas: ApiReplica[] = [];
  private workerProcess: WorkerProcess | undefined;
  private stopped = false;

  constructor(private readonly options: E2eClusterOptions) {
    this.prefix = `e2e-${options.name}-${randomBytes(4).toString('hex')}`;
  }

  /** Starts Redis, then the replicas (in parallel) and the worker; resolves once all are ready. */
  async start(): Promise<void> {
    const { replicas = 3, replicaEnv = [], echo = false, readyTimeoutMs = 30_000 } = this.options;
    this.redisServer = await RedisServer.start({ appendonly: true, echo });
    const ports = new Set<number>();
    while (ports.size < replicas) ports.add(await freePort());
    const started = await Promise.allSettled(
      [...ports].map((port, index) =>
        ApiReplica.start({
          port,
          name: `api-${String.fromCharCode(97 + index)}`,
          env: { ...this.env, ...replicaEnv[index] },
          echo,
        }),
      ),
    );
    for (const result of started)
      if (result.status === 'fulfilled') this.apiReplicas.push(result.value);
    for (const result of started) if (result.status === 'rejected') throw result.reason;
    if (this.options.worker !== undefined) {
      this.workerProcess = await WorkerProcess.start({
        env: { ...this.env, ...this.options.worker },
        echo,
      });
    }
    await Promise.all(this.apiReplicas.map((replica) => replica.ready(readyTimeoutMs)));
  }

  /** Environment shared by every process of this cluster (without per-replica additions). */
  get env(): Record<string, string> {
    return {
      ...BASE_ENV,
      ...this.options.env,
      REDIS_URL: this.redis.url,
      KEY_PREFIX: this.prefix,
    };
  }

  /** The private Redis. */
  get redis(): RedisServer {
    if (this.redisServer === undefined) throw new Error('the cluster has not been started');
    return this.redisServer;
  }

  /** The API replicas, in start order (`api-a`, `api-b`, …). */
  get replicas(): readonly ApiReplica[] {
    return this.apiReplicas;
  }

  /** Base URLs of the replicas, in start order. */
  get urls(): string[] {
    return this.apiReplicas.map((replica) => replica.url);
  }

  /** The worker, when started. */
  get worker(): WorkerProcess {
    if (this.workerProcess === undefined) throw new Error('this cluster runs no worker');
    return this.workerProcess;
  }

  /** A Redis key of this cluster, e.g. `key('rev', 'index')` → `<prefix>:rev:index`. */
  key(...parts: string[]): string {
    return [this.prefix, ...parts].join(':');
  }

  /**
   * Stops every process that started and removes the Redis data dir. Safe to call after a failed
   * or partial start, and more than once; reports the first failure after trying everything.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const results = await Promise.allSettled([
      ...this.apiReplicas.map((replica) => replica.stop()),
      ...(this.workerProcess === undefined ? [] : [this.workerProcess.stop()]),
    ]);
    const disposed = await Promise.allSettled([this.redisServer?.dispose()]);
    const failure = [...results, ...disposed].find((result) => result.status === 'rejected');
    if (failure !== undefined) throw (failure as PromiseRejectedResult).reason;
  }
}
