import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ApiClient } from './api-client';
import { ApiReplica } from './api-replica';
import { BuildSnapshot } from './build-snapshot';
import { freePort } from './free-port';
import { RedisServer, type RedisServerOptions } from './redis-server';
import { TcpProxy } from './tcp-proxy';
import { waitFor } from './wait-for';
import { WorkerProcess } from './worker-process';

/** Signing key every process of a cluster shares, so that tests can also forge tokens with it. */
export const CLUSTER_JWT_SECRET = 'rescind-e2e-secret-of-at-least-32-bytes!';

/** Environment every process gets: fast password hashing and a known signing key. */
const BASE_ENV: Readonly<Record<string, string>> = {
  NODE_ENV: 'test',
  JWT_SECRET: CLUSTER_JWT_SECRET,
  // Argon2id with 1 MiB (about 1 ms a hash) keeps thousands of logins per spec cheap on a 2-core
  // machine; production refuses less than 19456 KiB.
  PASSWORD_HASH_COST: '1024',
  // Such hashes cost next to nothing: room for the bursts of logins the suites make at once
  // (the login bulkhead's own suite sets 1).
  LOGIN_MAX_CONCURRENT_HASHES: '4',
  // Every test user registers from 127.0.0.1; the suites of the registration throttle set their own.
  REGISTER_IP_LIMIT: '1000000',
};

/** One replica of a {@link TestCluster}. */
export interface ClusterReplica {
  /** Further environment of this replica (e.g. a different `FAIL_MODE`). */
  env?: Record<string, string>;
  /** Reach Redis through a {@link TcpProxy} that the test can partition and heal. @default false */
  viaProxy?: boolean;
}

/** Options of {@link TestCluster}. */
export interface TestClusterOptions {
  /** The suite, first part of the key prefix (`e2e`, `faults`, …). */
  suite: string;
  /** Names the key prefix, so that keys left behind by a crash say which spec made them. */
  name: string;
  /**
   * The key prefix itself, for clusters that must share one (regions: every region's bridge
   * reads its peers' keys under its own prefix). @default `<suite>-<name>-<random>`
   */
  prefix?: string;
  /** The replicas (`api-a`, `api-b`, … in this order), or how many plain ones. @default 3 */
  replicas?: number | readonly ClusterReplica[];
  /** Environment of every replica and of the worker. */
  env?: Record<string, string>;
  /** Start the worker with the cluster, with this further environment. @default not started */
  worker?: Record<string, string>;
  /**
   * Options of the private `redis-server` (AOF is on unless said otherwise), or `external` when
   * `env` names the Redis deployment (`REDIS_URL`, `REDIS_CLUSTER_NODES`, …).
   */
  redis?: RedisServerOptions | 'external';
  /** Runs once Redis is up, before any replica starts (e.g. to fill the store). */
  seed?: (redis: RedisServer, prefix: string) => Promise<void>;
  /**
   * Start every process from a private {@link BuildSnapshot}, for scenarios that restart
   * processes while someone may be rebuilding `dist/`. @default false
   */
  snapshot?: boolean;
  /** How long every replica may take to be ready (a loaded CI machine starts Nest slowly). @default 60000 */
  readyTimeoutMs?: number;
  /** Echo every child's output (debugging). @default false */
  echo?: boolean;
}

/** `a`, `b`, `c`, … for replica 0, 1, 2, … */
export function replicaLabel(index: number): string {
  return String.fromCharCode(97 + index);
}

let sharedSnapshot: Promise<BuildSnapshot> | undefined;

/**
 * API replicas (some optionally behind a proxy the test can cut), optionally the worker, and a
 * private `redis-server` (AOF on) unless the deployment's Redis is external, under a unique
 * `KEY_PREFIX`, for one spec file. Create it at the top of the spec, `start()` it in `beforeAll`
 * and `stop()` it in `afterAll`: stop() tears down whatever did start, even after a failed start.
 */
export class TestCluster {
  /** Unique `KEY_PREFIX` of this cluster (a Redis Cluster deployment hash-tags it: `{prefix}`). */
  readonly prefix: string;
  /** One client per replica, in order; replicas added later get theirs appended. */
  readonly clients: ApiClient[] = [];
  private build: BuildSnapshot | undefined;
  private redisServer: RedisServer | undefined;
  private readonly apiReplicas: ApiReplica[] = [];
  private readonly proxies = new Map<number, TcpProxy>();
  private workerProcess: WorkerProcess | undefined;
  private stopped = false;

  constructor(private readonly options: TestClusterOptions) {
    this.prefix =
      options.prefix ?? `${options.suite}-${options.name}-${randomBytes(4).toString('hex')}`;
  }

  /** Starts Redis, the proxies, the replicas (in parallel) and the worker; resolves once all are ready. */
  async start(): Promise<void> {
    const { replicas = 3, echo = false, redis = {}, readyTimeoutMs = 60_000 } = this.options;
    const specs: readonly ClusterReplica[] =
      typeof replicas === 'number' ? Array.from({ length: replicas }, () => ({})) : replicas;
    if (this.options.snapshot) this.build = await (sharedSnapshot ??= BuildSnapshot.take());
    if (redis !== 'external') {
      this.redisServer = await RedisServer.start({ appendonly: true, echo, ...redis });
      await this.options.seed?.(this.redisServer, this.prefix);
    }
    const ports = new Set<number>();
    while (ports.size < specs.length) ports.add(await freePort());
    for (const [index, spec] of specs.entries()) {
      if (spec.viaProxy) this.proxies.set(index, await TcpProxy.start(this.redis.port));
    }
    const started = await Promise.allSettled(
      [...ports].map((port, index) => this.spawnReplica(port, specs[index]?.env, index)),
    );
    for (const result of started) if (result.status === 'fulfilled') this.adopt(result.value);
    for (const result of started) if (result.status === 'rejected') throw result.reason;
    if (this.options.worker !== undefined) await this.startWorker(this.options.worker);
    await Promise.all(this.apiReplicas.map((replica) => replica.ready(readyTimeoutMs)));
  }

  /** Environment shared by every process (without per-replica additions). */
  get env(): Record<string, string> {
    return {
      ...BASE_ENV,
      ...this.options.env,
      ...(this.redisServer === undefined ? {} : { REDIS_URL: this.redisServer.url }),
      KEY_PREFIX: this.prefix,
    };
  }

  /** The private Redis. */
  get redis(): RedisServer {
    if (this.redisServer === undefined) throw new Error('this cluster runs no Redis of its own');
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

  /** The proxy between replica `index` and Redis. */
  proxy(index: number): TcpProxy {
    const proxy = this.proxies.get(index);
    if (proxy === undefined)
      throw new Error(`replica ${replicaLabel(index)} is not behind a proxy`);
    return proxy;
  }

  /** Starts the worker (once) with this further environment and waits for its ready line. */
  async startWorker(env: Record<string, string> = {}): Promise<WorkerProcess> {
    if (this.workerProcess !== undefined) throw new Error('the worker already runs');
    this.workerProcess = await WorkerProcess.start({
      entry: this.build?.entry('worker'),
      env: { ...this.env, ...env },
      echo: this.options.echo,
    });
    return this.workerProcess;
  }

  /** Starts one more replica (not ready yet: call `ready()`); its client is appended to {@link clients}. */
  async addReplica(env: Record<string, string> = {}): Promise<ApiReplica> {
    const replica = await this.spawnReplica(await freePort(), env, this.apiReplicas.length);
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
        return replica.stop();
      }),
      ...(this.workerProcess === undefined ? [] : [this.workerProcess.stop()]),
    ]);
    const closed = await Promise.allSettled([
      ...[...this.proxies.values()].map((proxy) => proxy.close()),
      this.redisServer?.dispose(),
    ]);
    const failure = [...results, ...closed].find((result) => result.status === 'rejected');
    if (failure !== undefined) throw (failure as PromiseRejectedResult).reason;
  }

  private spawnReplica(
    port: number,
    env: Record<string, string> | undefined,
    index: number,
  ): Promise<ApiReplica> {
    const proxy = this.proxies.get(index);
    return ApiReplica.start({
      port,
      name: `api-${replicaLabel(index)}`,
      entry: this.build?.entry('api'),
      env: { ...this.env, ...env, ...(proxy === undefined ? {} : { REDIS_URL: proxy.url() }) },
      echo: this.options.echo,
    });
  }

  private adopt(replica: ApiReplica): void {
    this.clients.push(new ApiClient(replica.url, replicaLabel(this.apiReplicas.length)));
    this.apiReplicas.push(replica);
  }
}
