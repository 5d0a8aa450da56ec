import { randomBytes } from 'node:crypto';
import { ApiReplica, freePort, WorkerProcess } from '@rescind/testing';
import { ApiClient } from './api-client';

/** Environment every process gets: fast password hashing and a known signing key. */
const BASE_ENV: Readonly<Record<string, string>> = {
  NODE_ENV: 'test',
  JWT_SECRET: 'rescind-scale-out-secret-of-at-least-32-bytes',
  // scrypt N=1024 keeps hundreds of logins per spec cheap on a 2-core machine.
  PASSWORD_HASH_COST: '1024',
};

/** Options of {@link ScaleOutApps}. */
export interface ScaleOutAppsOptions {
  /** Names the key prefix, so that keys left behind by a crash say which spec made them. */
  name: string;
  /** Where Redis is: `REDIS_URL` plus `REDIS_CLUSTER_NODES` or `REDIS_SENTINELS`, …; shared by all. */
  env: Record<string, string>;
  /** Number of API replicas. @default 3 */
  replicas?: number;
  /** Start the worker too, with this further environment. @default not started */
  worker?: Record<string, string>;
  /** Echo every child's output (debugging). @default false */
  echo?: boolean;
  /** How long every replica may take to be ready. @default 30000 */
  readyTimeoutMs?: number;
}

/**
 * N API replicas (and optionally the worker) of one deployment on whatever Redis topology `env`
 * names, with a unique `KEY_PREFIX`. `start()` in `beforeAll`, `stop()` in `afterAll`: stop()
 * tears down whatever did start, even when start() failed half-way.
 */
export class ScaleOutApps {
  /** `KEY_PREFIX` as given to the processes (a cluster deployment hash-tags it: `{prefix}`). */
  readonly prefix: string;
  private readonly apiReplicas: ApiReplica[] = [];
  private workerProcess: WorkerProcess | undefined;
  private stopped = false;

  constructor(private readonly options: ScaleOutAppsOptions) {
    this.prefix = `so-${options.name}-${randomBytes(4).toString('hex')}`;
  }

  /** Starts the replicas (in parallel) and the worker; resolves once every replica is ready. */
  async start(): Promise<void> {
    const { replicas = 3, echo = false, readyTimeoutMs = 30_000 } = this.options;
    const ports = new Set<number>();
    while (ports.size < replicas) ports.add(await freePort());
    const started = await Promise.allSettled(
      [...ports].map((port, index) =>
        ApiReplica.start({
          port,
          name: `api-${String.fromCharCode(97 + index)}`,
          env: this.env,
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

  /** Environment of every process. */
  get env(): Record<string, string> {
    return { ...BASE_ENV, ...this.options.env, KEY_PREFIX: this.prefix };
  }

  /** The API replicas, in start order (`api-a`, `api-b`, …). */
  get replicas(): readonly ApiReplica[] {
    return this.apiReplicas;
  }

  /** One client per replica, in start order. */
  clients(): ApiClient[] {
    return this.apiReplicas.map((replica) => new ApiClient(replica.url));
  }

  /** The worker, when started. */
  get worker(): WorkerProcess {
    if (this.workerProcess === undefined) throw new Error('no worker was started');
    return this.workerProcess;
  }

  /** Stops every process that started. Safe after a failed or partial start, and more than once. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const results = await Promise.allSettled([
      ...this.apiReplicas.map((replica) => replica.stop()),
      ...(this.workerProcess === undefined ? [] : [this.workerProcess.stop()]),
    ]);
    const failure = results.find((result) => result.status === 'rejected');
    if (failure !== undefined) throw (failure as PromiseRejectedResult).reason;
  }
}
