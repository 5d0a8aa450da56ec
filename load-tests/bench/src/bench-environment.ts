import { ApiReplica, type RedisServer } from '@rescind/testing';
import { type BenchIssuer } from './bench-issuer';
import { type BenchOptions } from './bench-options';
import { type CleanupStack } from './cleanup-stack';

/** HTTP adapters of the API. */
export type HttpAdapter = 'fastify' | 'express';

/** `REVOCATION_STRATEGY` values. */
export type Strategy = 'none' | 'redis' | 'local';

/** What every section shares: the private Redis, the namespace holding the live revocations. */
export interface BenchEnvironment {
  readonly options: BenchOptions;
  readonly redis: RedisServer;
  /** `KEY_PREFIX` of the 100,000 live revocations and of the bench user. */
  readonly keyPrefix: string;
  /** HS256 secret of every API replica and of the textbook app (a string, as `JWT_SECRET` is). */
  readonly jwtSecret: string;
  readonly cleanup: CleanupStack;
  readonly user: { readonly username: string; readonly password: string };
  /**
   * The loopback OpenID provider of the external issuer's parts (absent with `--skip=external`):
   * the Fastify `none` and `local` servers of the throughput section and the fan-out replicas
   * accept its tokens.
   */
  readonly issuer?: BenchIssuer;
}

/** Options of {@link startApiReplica}. */
export interface StartApiReplicaOptions {
  adapter: HttpAdapter;
  strategy: Strategy;
  name: string;
  /** @default the environment's */
  keyPrefix?: string;
  /**
   * `LOG_LEVEL`: `warn` (no access log) unless said otherwise, since logging is not what most
   * configurations compare; the throughput section measures the default `info` on its own.
   * @default 'warn'
   */
  logLevel?: 'warn' | 'info';
  /** Append the replica's stdout (its JSON logs) to this file rather than piping it here. */
  stdoutFile?: string;
  /** Further variables. */
  env?: Record<string, string> | undefined;
}

/** Spawns a real API replica (`dist/apps/api/src/main.js`) registered for clean-up; not awaited ready. */
export async function startApiReplica(
  bench: BenchEnvironment,
  options: StartApiReplicaOptions,
): Promise<ApiReplica> {
  const replica = await ApiReplica.start({
    name: options.name,
    ...(options.stdoutFile === undefined ? {} : { stdoutFile: options.stdoutFile }),
    env: {
      NODE_ENV: 'development',
      REDIS_URL: bench.redis.url,
      KEY_PREFIX: options.keyPrefix ?? bench.keyPrefix,
      JWT_SECRET: bench.jwtSecret,
      HTTP_ADAPTER: options.adapter,
      REVOCATION_STRATEGY: options.strategy,
      // Logins are not what is measured; a cheap Argon2id (1 MiB) keeps the fan-out loop short.
      PASSWORD_HASH_COST: '1024',
      ADMIN_API_KEY: undefined,
      LOG_LEVEL: options.logLevel ?? 'warn',
      ...options.env,
    },
  });
  const remove = bench.cleanup.add(options.name, () => replica.stop('SIGTERM', 5_000));
  void replica.exited.then(remove);
  return replica;
}

/**
 * Fails unless the replica's cache holds at least the loaded revocations
 * (`rescind_cache_entries`): the revocations measured against are real, not an empty cache.
 */
export async function assertHydrated(bench: BenchEnvironment, replica: ApiReplica): Promise<void> {
  const metrics = await (await fetch(`${replica.url}/metrics`)).text();
  const held = Number(/^rescind_cache_entries(?:\{[^}]*\})? (\d+)/m.exec(metrics)?.[1]);
  if (!(held >= bench.options.liveRevocations)) {
    throw new Error(`${replica.name} holds ${held} revocations, not the loaded ones`);
  }
}
