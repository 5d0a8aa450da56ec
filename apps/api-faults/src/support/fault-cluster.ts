import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  ApiReplica,
  freePort,
  RedisServer,
  type RedisServerOptions,
  waitFor,
  WorkerProcess,
} from '@rescind/testing';
import { ApiClient } from './api-client';
import { type AppEntries, distSnapshot } from './dist-snapshot';
import { TcpProxy } from './tcp-proxy';

/** Signing key every process of a cluster shares. */
export const FAULTS_JWT_SECRET = 'rescind-faults-secret-of-at-least-32-bytes';

/** Environment every process gets: fast password hashing, a known key, no login lock-outs. */
const BASE_ENV: Readonly<Record<string, string>> = {
  NODE_ENV: 'test',
  JWT_SECRET: FAULTS_JWT_SECRET,
  // scrypt N=1024 keeps thousands of logins per scenario cheap on a 2-core machine.
  PASSWORD_HASH_COST: '1024',
};

/** One replica of a {@link FaultCluster}. */
export interface ReplicaSpec {
  /** Further environment of this replica (e.g. `FAIL_MODE`). */
  env?: Record<string, string>;
  /** Reach Redis through a {@link TcpProxy} that the test can cut and heal. @default false */
  viaProxy?: boolean;
}

/** Options of {@link FaultCluster}. */
export interface FaultClusterOptions {
  /** Names the key prefix, so that leftovers say which scenario made them. */
  name: string;
  /** The replicas, `a`, `b`, `c`, … in this order. @default three plain replicas */
  replicas?: readonly ReplicaSpec[];
  /** Environment of every replica and of the worker. */
  env?: Record<string, string>;
  /** Start the worker with the cluster, with this further environment. @default not started */
  worker?: Record<string, string>;
  /** Options of the private `redis-server` (AOF is on unless said otherwise). */
  redis?: RedisServerOptions;
  /** Runs once Redis is up, before any replica starts (e.g. to fill the store). */
  seed?: (redis: RedisServer, prefix: string) => Promise<void>;
  /** Echo every child's output (debugging). @default false */
  echo?: boolean;
}

/**
 * A private `redis-server` (AOF on), API replicas (some optionally behind a cuttable proxy) and
 * optionally the worker, for one scenario, under a unique `KEY_PREFIX`. `stop()` tears down
 * whatever started, also after a failed start.
 */
export class FaultCluster {
  /** Unique `KEY_PREFIX` of this cluster. */
  readonly prefix: string;
  /** One client per replica, in order; replicas added later get theirs appended. */
  readonly clients: ApiClient[] = [];
  private apps: AppEntries | undefined;
  private redisServer: RedisServer | undefined;
  private readonly apiReplicas: ApiReplica[] = [];
  private readonly proxies = new Map<number, TcpProxy>();
  private workerProcess: WorkerProcess | undefined;
  private stopped = false;

  constructor(private readonly options: FaultClusterOptions) {
    this.prefix = `faults-${options.name}-${randomBytes(3).toString('hex')}`;
  }

  /** Starts Redis, the proxies, the replicas (in parallel) and the worker; resolves once all are ready. */
  async start(): Promise<void> {
    const { replicas = [{}, {}, {}], echo = false } = this.options;
    this.apps = await distSnapshot();
    this.redisServer = await RedisServer.start({ appendonly: true, echo, ...this.options.redis });
    await this.options.seed?.(this.redisServer, this.prefix);
    const ports = new Set<number>();
    while (ports.size < replicas.length) ports.add(await freePort());
    for (const [index, spec] of replicas.entries()) {
      if (spec.viaProxy) this.proxies.set(index, await TcpProxy.start(this.redisServer.port));
    }
    const started = await Promise.allSettled(
      [...ports].map((port, index) =>
        ApiReplica.start({
          port,
          name: `api-${labelOf(index)}`,
          entry: this.entries.api,
          env: {
            ...this.env,
            ...replicas[index]?.env,
            ...(this.proxies.has(index) ? { REDIS_URL: this.proxy(index).url } : {}),
          },
          echo,
        }),
      ),
    );
    for (const result of started) {
      if (result.status === 'fulfilled') this.adopt(result.value);
    }
    for (const result of started) if (result.status === 'rejected') throw result.reason;
    if (this.options.worker !== undefined) await this.startWorker(this.options.worker);
    await Promise.all(this.apiReplicas.map((replica) => replica.ready(60_000)));
  }

  /** Environment shared by every process (without per-replica additions). */
  get env(): Record<string, string> {
    return {
      ...BASE_ENV,
      ...this.options.env,
      REDIS_URL: this.redis.url,
      KEY_PREFIX: this.prefix,
      NODE_PATH: this.entries.nodePath,
    };
  }

  /** The built apps every process of this cluster starts from. */
  private get entries(): AppEntries {
    if (this.apps === undefined) throw new Error('the cluster has not been started');
    return this.apps;
  }

  /** The private Redis. */
  get redis(): RedisServer {
    if (this.redisServer === undefined) throw new Error('the cluster has not been started');
    return this.redisServer;
  }

  /** The replica processes, in order. */
  get replicas(): readonly ApiReplica[] {
    return this.apiReplicas;
  }

  /** The proxy between replica `index` and Redis. */
  proxy(index: number): TcpProxy {
    const proxy = this.proxies.get(index);
    if (proxy === undefined) throw new Error(`replica ${labelOf(index)} is not behind a proxy`);
    return proxy;
  }

  /** Starts the worker (once) with this further environment and waits for its ready line. */
  async startWorker(env: Record<string, string> = {}): Promise<WorkerProcess> {
    if (this.workerProcess !== undefined) throw new Error('the worker already runs');
    this.workerProcess = await WorkerProcess.start({
      entry: this.entries.worker,
      env: { ...this.env, ...env },
      echo: this.options.echo,
    });
    return this.workerProcess;
  }

  /** Starts one more replica (not ready yet: call `ready()`); its client is appended to {@link clients}. */
  async addReplica(env: Record<string, string> = {}): Promise<ApiReplica> {
    const replica = await ApiReplica.start({
      name: `api-${labelOf(this.apiReplicas.length)}`,
      entry: this.entries.api,
      env: { ...this.env, ...env },
      echo: this.options.echo,
    });
    this.adopt(replica);
    return replica;
  }

  /** A Redis key of this cluster, e.g. `key('rev', 'index')` → `<prefix>:rev:index`. */
  key(...parts: string[]): string {
    return [this.prefix, ...parts].join(':');
  }

  /** Whether every replica (or those given) answers `/health/ready` with 200. */
  async allReady(indices?: readonly number[]): Promise<boolean> {
    const chosen = indices ?? this.clients.map((_, index) => index);
    const ready = await Promise.all(
      chosen.map((index) => (this.clients[index] as ApiClient).isReady()),
    );
    return ready.every(Boolean);
  }

  /** Waits until every replica (or those given) is ready. */
  async waitAllReady(
    timeoutMs: number,
    description: string,
    indices?: readonly number[],
  ): Promise<void> {
    await waitFor(() => this.allReady(indices), { timeoutMs, intervalMs: 20, description });
  }

  /**
   * Empties the Redis data directory (AOF and any dump), as a lost disk or a restart without
   * persistence would; call while Redis is stopped.
   */
  wipeRedisData(): void {
    if (this.redis.running) throw new Error('stop Redis before wiping its data');
    for (const entry of fs.readdirSync(this.redis.dir)) {
      fs.rmSync(path.join(this.redis.dir, entry), { recursive: true, force: true });
    }
  }

  /**
   * Stops every process and proxy that started and removes the Redis data dir. Safe after a
   * failed or partial start, and more than once; reports the first failure after trying all.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const results = await Promise.allSettled([
      // A frozen replica cannot handle SIGTERM: thaw it first.
      ...this.apiReplicas.map((replica) => {
        replica.process.signal('SIGCONT');
        return replica.stop('SIGTERM', 5_000);
      }),
      ...(this.workerProcess === undefined ? [] : [this.workerProcess.stop('SIGTERM', 5_000)]),
    ]);
    const closed = await Promise.allSettled([
      ...[...this.proxies.values()].map((proxy) => proxy.close()),
      this.redisServer?.dispose(),
    ]);
    const failure = [...results, ...closed].find((result) => result.status === 'rejected');
    if (failure !== undefined) throw (failure as PromiseRejectedResult).reason;
  }

  private adopt(replica: ApiReplica): void {
    this.clients.push(new ApiClient(replica.url, labelOf(this.apiReplicas.length)));
    this.apiReplicas.push(replica);
  }
}

/** `a`, `b`, `c`, … for replica 0, 1, 2, … */
export function labelOf(index: number): string {
  return String.fromCharCode(97 + index);
}
