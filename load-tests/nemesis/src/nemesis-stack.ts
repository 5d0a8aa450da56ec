import { randomBytes } from 'node:crypto';
import {
  ApiReplica,
  BuildSnapshot,
  freePort,
  RedisServer,
  TcpProxy,
  WorkerProcess,
} from '@rescind/testing';
import { type ReplicaAddress } from './recording-client';

/** The product's default `REVOCATION_CACHE_MAX`. */
export const DEFAULT_CACHE_MAX = 1_000_000;

/** Options of {@link NemesisStack.start}. */
export interface NemesisStackOptions {
  /** `REVOCATION_CACHE_MAX` of each replica; their number is the number of replicas. */
  readonly cacheMax: readonly number[];
  /** Names the key prefix. */
  readonly seed: number;
  /** The build to run. @default `<repo>/dist` */
  readonly distDir?: string;
  /** Echo every child's output. */
  readonly echo?: boolean;
}

/** One API replica, reaching Redis through its own proxy. */
export interface StackReplica extends ReplicaAddress {
  readonly process: ApiReplica;
  readonly proxy: TcpProxy;
  readonly cacheMax: number;
}

/**
 * What the nemesis runs against and breaks: a private `redis-server` (AOF with `appendfsync
 * always`, so that a crash loses nothing acknowledged), API replicas each connected to Redis
 * through its own {@link TcpProxy} (so any one can be partitioned), and the worker, all started
 * from one private copy of the build under a unique `KEY_PREFIX`.
 */
export class NemesisStack {
  private constructor(
    readonly redis: RedisServer,
    readonly replicas: readonly StackReplica[],
    readonly worker: WorkerProcess,
    /** The admin key of every replica (`ADMIN_API_KEY`). */
    readonly adminKey: string,
    private readonly build: BuildSnapshot,
  ) {}

  /** Starts everything and waits until every replica is ready; stops what started on failure. */
  static async start(options: NemesisStackOptions): Promise<NemesisStack> {
    const build = await BuildSnapshot.take({ distDir: options.distDir });
    const redis = await RedisServer.start({
      appendonly: true,
      appendfsync: 'always',
      echo: options.echo,
    });
    const adminKey = randomBytes(24).toString('base64url');
    const env = {
      // Not `production`: production demands OWASP-strength password hashing (PASSWORD_HASH_COST
      // ≥ 19456 KiB), too slow for the thousands of logins below on a 2-core machine.
      NODE_ENV: 'test',
      REDIS_URL: redis.url,
      KEY_PREFIX: `nemesis-${options.seed}-${randomBytes(3).toString('hex')}`,
      JWT_SECRET: randomBytes(32).toString('base64url'),
      ADMIN_API_KEY: adminKey,
      LOG_LEVEL: 'warn',
      // Argon2id with 1 MiB, as in the other suites: thousands of logins on a 2-core machine.
      PASSWORD_HASH_COST: '1024',
      // Logins of accounts Redis lost fail by design; they must not lock the clients out.
      LOGIN_FAILURE_LIMIT: '1000000',
      LOGIN_IP_FAILURE_LIMIT: '1000000',
      // Every registration comes from this one address.
      REGISTER_IP_LIMIT: '1000000',
      // No grace: a rotated-out refresh token presented again is always reuse, and ends its
      // session (two lanes refreshing one session at once reveal a reuse too).
      REFRESH_REUSE_GRACE_MS: '0',
      // Tidy often, so that killing the worker mid-job is likely.
      TIDY_INTERVAL_MS: '2000',
      WORKER_METRICS_PORT: '0',
    };
    const proxies: TcpProxy[] = [];
    const replicas: StackReplica[] = [];
    let worker: WorkerProcess | undefined;
    try {
      for (const [index, cacheMax] of options.cacheMax.entries()) {
        const proxy = await TcpProxy.start(redis.port);
        proxies.push(proxy);
        const label = String.fromCharCode(97 + index);
        const process = await ApiReplica.start({
          port: await freePort(),
          name: `api-${label}`,
          entry: build.entry('api'),
          env: { ...env, REDIS_URL: proxy.url(), REVOCATION_CACHE_MAX: String(cacheMax) },
          echo: options.echo,
        });
        replicas.push({ label, url: process.url, process, proxy, cacheMax });
      }
      worker = await WorkerProcess.start({ entry: build.entry('worker'), env, echo: options.echo });
      await Promise.all(replicas.map((replica) => replica.process.ready(120_000)));
      return new NemesisStack(redis, replicas, worker, adminKey, build);
    } catch (error) {
      await Promise.allSettled([
        ...replicas.map((replica) => replica.process.stop('SIGTERM', 5_000)),
        worker?.stop('SIGTERM', 5_000),
      ]);
      await Promise.allSettled(proxies.map((proxy) => proxy.close()));
      await redis.dispose();
      await build.dispose();
      throw error;
    }
  }

  /** Stops every process (thawing frozen ones first), the proxies and Redis, and removes the copies. */
  async stop(): Promise<void> {
    await Promise.allSettled([
      ...this.replicas.map((replica) => {
        replica.process.process.signal('SIGCONT');
        return replica.process.stop('SIGTERM', 5_000);
      }),
      this.worker.stop('SIGTERM', 5_000),
    ]);
    await Promise.allSettled(this.replicas.map((replica) => replica.proxy.close()));
    await this.redis.dispose();
    await this.build.dispose();
  }
}
