import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ApiReplica, freePort, RedisServer, waitFor, WorkerProcess } from '@rescind/testing';

/** Replicas of the soak, `a`, `b`, `c`. */
const REPLICAS = 3;

/** The repository root: the nearest folder holding `nx.json` above this file, else above the working directory. */
export function findRepoRoot(): string {
  for (const start of [__dirname, process.cwd()]) {
    for (let dir = start; ; dir = path.dirname(dir)) {
      if (fs.existsSync(path.join(dir, 'nx.json'))) return dir;
      if (path.dirname(dir) === dir) break;
    }
  }
  throw new Error('run the soak from the repository (no nx.json found)');
}

/**
 * What the soak runs against: a private `redis-server` (AOF with `appendfsync always`, so that a
 * crash loses nothing acknowledged), three API replicas and the worker, all from `dist/`.
 */
export class SoakStack {
  private constructor(
    readonly redis: RedisServer,
    readonly replicas: readonly ApiReplica[],
    readonly worker: WorkerProcess,
    readonly prefix: string,
  ) {}

  /** Starts everything and waits until every replica is ready; stops what started on failure. */
  static async start(echo: boolean): Promise<SoakStack> {
    const root = findRepoRoot();
    const entry = (app: string): string => path.join(root, 'dist', 'apps', app, 'src', 'main.js');
    await waitFor(
      () =>
        ['api', 'worker'].every((app) => {
          try {
            return !fs.readFileSync(entry(app), 'utf8').includes('require("@rescind/');
          } catch {
            return false;
          }
        }),
      {
        timeoutMs: 120_000,
        intervalMs: 500,
        description: 'a complete build in dist/ (npm run build)',
      },
    );
    const redis = await RedisServer.start({ appendonly: true, appendfsync: 'always', echo });
    const prefix = `soak-${randomBytes(3).toString('hex')}`;
    const env = {
      // Not `production`: production demands OWASP-strength password hashing (PASSWORD_HASH_COST
      // ≥ 19456 KiB), which would change what the soak measures against earlier runs.
      NODE_ENV: 'test',
      REDIS_URL: redis.url,
      KEY_PREFIX: prefix,
      JWT_SECRET: randomBytes(32).toString('base64url'),
      // Argon2id with 1 MiB, as in the test suites: logins are 4% of the mix on a 2-core machine.
      PASSWORD_HASH_COST: '1024',
      // Every account is registered from this one address (60 of them by default).
      REGISTER_IP_LIMIT: '1000',
    };
    const replicas: ApiReplica[] = [];
    let worker: WorkerProcess | undefined;
    try {
      for (let i = 0; i < REPLICAS; i++) {
        replicas.push(
          await ApiReplica.start({
            port: await freePort(),
            name: `api-${String.fromCharCode(97 + i)}`,
            entry: entry('api'),
            env,
            echo,
          }),
        );
      }
      worker = await WorkerProcess.start({ entry: entry('worker'), env, echo });
      await Promise.all(replicas.map((replica) => replica.ready(60_000)));
      return new SoakStack(redis, replicas, worker, prefix);
    } catch (error) {
      await Promise.allSettled([...replicas.map((replica) => replica.stop()), worker?.stop()]);
      await redis.dispose();
      throw error;
    }
  }

  /** Base URLs of the replicas. */
  get urls(): string[] {
    return this.replicas.map((replica) => replica.url);
  }

  /** Whether every replica answers `/health/ready` with 200. */
  async allReady(): Promise<boolean> {
    const ready = await Promise.all(
      this.urls.map(async (url) => {
        try {
          const response = await fetch(`${url}/health/ready`, {
            signal: AbortSignal.timeout(2_000),
          });
          await response.arrayBuffer();
          return response.status === 200;
        } catch {
          return false;
        }
      }),
    );
    return ready.every(Boolean);
  }

  /** `rescind_cache_entries` of each replica. */
  async cacheEntries(): Promise<number[]> {
    return Promise.all(
      this.urls.map(async (url) => {
        const text = await (await fetch(`${url}/metrics`)).text();
        const match = /^rescind_cache_entries(?:\{[^}]*\})?\s+(\S+)/m.exec(text);
        return match === null ? Number.NaN : Number(match[1]);
      }),
    );
  }

  /** Stops the replicas and the worker, then Redis (and removes its data). */
  async stop(): Promise<void> {
    await Promise.allSettled([
      ...this.replicas.map((replica) => replica.stop()),
      this.worker.stop(),
    ]);
    await this.redis.dispose();
  }
}
