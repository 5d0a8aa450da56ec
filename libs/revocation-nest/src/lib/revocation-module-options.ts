import { type KeyObject, createSecretKey } from 'node:crypto';
import { DEFAULT_CLOCK_SKEW_MS, type Milliseconds, type Seconds } from '@rescind/revocation-core';
import { effectiveKeyPrefix, type RedisNode, type RedisTopology } from '@rescind/revocation-redis';

/** What a replica does once it cannot confirm it is in sync for longer than the bound. */
export type FailMode = 'closed' | 'open';

/** How the guard decides whether a token is revoked. */
export type RevocationStrategy = 'local' | 'redis' | 'none';

/** HMAC algorithms accepted for access tokens. */
export type JwtAlgorithm = 'HS256' | 'HS384' | 'HS512';

/** Options of `RevocationModule.forRoot()`. */
export interface RevocationModuleOptions {
  /**
   * `redis://` or `rediss://` URL of the store and the pub/sub bus. With Sentinel or a cluster it
   * still supplies credentials, TLS and the database.
   */
  redisUrl: string;
  /** Sentinels to ask for the master named {@link redisSentinelName}. */
  redisSentinels?: readonly RedisNode[];
  /** Master name known to the Sentinels. */
  redisSentinelName?: string;
  /** Seed nodes of a Redis Cluster (the key prefix then gets a hash tag, e.g. `{rvk}`). */
  redisClusterNodes?: readonly RedisNode[];
  /** Namespace of every key and channel. @default 'rvk' */
  keyPrefix?: string;
  /** HMAC signing key; a string is turned into a `KeyObject` once. */
  jwtSecret: string | Buffer | KeyObject;
  /** Keys rotated out: tokens they signed (named by `kid`) still verify until they expire. */
  jwtPreviousSecrets?: readonly (string | Buffer | KeyObject)[];
  /** @default 'HS256' */
  jwtAlgorithm?: JwtAlgorithm;
  /** Lifetime of issued tokens, also the longest lifetime accepted. @default 900 */
  accessTokenTtlSeconds?: Seconds;
  /** Entries held in the in-memory cache. @default 1_000_000 */
  cacheMaxEntries?: number;
  /**
   * Tokens remembered as verified, so that a token presented again costs a lookup instead of a
   * signature check (its expiry is still checked every time; revocation is checked as always).
   * 0 verifies every request. @default 10_000
   */
  verifiedTokenCacheMax?: number;
  /** @default 'closed' */
  failMode?: FailMode;
  /** @default 5000 */
  maxStalenessMs?: Milliseconds;
  /** @default 'local' */
  strategy?: RevocationStrategy;
  /** Name of this replica. @default `<hostname>-<pid>` */
  instanceId?: string;
  /** Period of the anti-entropy catch-up. @default min(1000, maxStalenessMs / 4) */
  syncIntervalMs?: Milliseconds;
  /**
   * Largest disagreement tolerated between the clocks of the replicas that issue and verify
   * tokens: a token issued up to this far in the future is accepted, so every cut-off (logout-all,
   * the store-wide not-before) reaches this far past the clock that takes it. @default 500
   */
  clockSkewMs?: Milliseconds;
}

/** Options after defaults and validation, as the providers see them. */
export interface ResolvedRevocationOptions {
  readonly redisUrl: string;
  readonly redisTopology: RedisTopology;
  readonly keyPrefix: string;
  readonly jwtKey: KeyObject;
  readonly jwtPreviousKeys: readonly KeyObject[];
  readonly jwtAlgorithm: JwtAlgorithm;
  readonly accessTokenTtlSeconds: Seconds;
  readonly cacheMaxEntries: number;
  readonly verifiedTokenCacheMax: number;
  readonly failMode: FailMode;
  readonly maxStalenessMs: Milliseconds;
  readonly strategy: RevocationStrategy;
  readonly instanceId: string;
  readonly syncIntervalMs: Milliseconds;
  readonly clockSkewMs: Milliseconds;
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`${name} must be a positive integer, got ${String(value)}`);
  }
  return value;
}

function nonNegativeInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${name} must be a non-negative integer, got ${String(value)}`);
  }
  return value;
}

function oneOf<T extends string>(name: string, value: T, allowed: readonly T[]): T {
  if (!allowed.includes(value)) {
    throw new RangeError(`${name} must be one of ${allowed.join(', ')}, got "${value}"`);
  }
  return value;
}

function secretKey(name: string, secret: string | Buffer | KeyObject): KeyObject {
  const key =
    typeof secret === 'string' || Buffer.isBuffer(secret)
      ? createSecretKey(Buffer.from(secret))
      : secret;
  if (key.type !== 'secret' || (key.symmetricKeySize ?? 0) < 1) {
    throw new RangeError(`${name} must be a non-empty HMAC secret`);
  }
  return key;
}

function resolveTopology(options: RevocationModuleOptions): RedisTopology {
  const url = options.redisUrl;
  if (options.redisClusterNodes !== undefined && options.redisSentinels !== undefined) {
    throw new RangeError('redisClusterNodes and redisSentinels exclude each other');
  }
  if (options.redisClusterNodes !== undefined) {
    if (options.redisClusterNodes.length === 0) throw new RangeError('redisClusterNodes is empty');
    return { kind: 'cluster', url, nodes: options.redisClusterNodes };
  }
  if (options.redisSentinels !== undefined) {
    if (options.redisSentinels.length === 0) throw new RangeError('redisSentinels is empty');
    if (options.redisSentinelName === undefined || options.redisSentinelName === '') {
      throw new RangeError('redisSentinelName is required with redisSentinels');
    }
    return {
      kind: 'sentinel',
      url,
      sentinels: options.redisSentinels,
      name: options.redisSentinelName,
    };
  }
  return { kind: 'standalone', url };
}

/** Applies defaults and rejects invalid values with a message naming the option. */
export function resolveRevocationOptions(
  options: RevocationModuleOptions,
  defaultInstanceId: string,
): ResolvedRevocationOptions {
  const maxStalenessMs = positiveInteger('maxStalenessMs', options.maxStalenessMs ?? 5000);
  const jwtKey = secretKey('jwtSecret', options.jwtSecret);
  const jwtPreviousKeys = (options.jwtPreviousSecrets ?? []).map((secret, i) =>
    secretKey(`jwtPreviousSecrets[${i}]`, secret),
  );
  const redisTopology = resolveTopology(options);
  return {
    redisUrl: options.redisUrl,
    redisTopology,
    keyPrefix: effectiveKeyPrefix(options.keyPrefix ?? 'rvk', redisTopology),
    jwtKey,
    jwtPreviousKeys,
    jwtAlgorithm: oneOf('jwtAlgorithm', options.jwtAlgorithm ?? 'HS256', [
      'HS256',
      'HS384',
      'HS512',
    ]),
    accessTokenTtlSeconds: positiveInteger(
      'accessTokenTtlSeconds',
      options.accessTokenTtlSeconds ?? 900,
    ),
    cacheMaxEntries: positiveInteger('cacheMaxEntries', options.cacheMaxEntries ?? 1_000_000),
    verifiedTokenCacheMax: nonNegativeInteger(
      'verifiedTokenCacheMax',
      options.verifiedTokenCacheMax ?? 10_000,
    ),
    failMode: oneOf('failMode', options.failMode ?? 'closed', ['closed', 'open']),
    maxStalenessMs,
    strategy: oneOf('strategy', options.strategy ?? 'local', ['local', 'redis', 'none']),
    instanceId: options.instanceId ?? defaultInstanceId,
    syncIntervalMs: positiveInteger(
      'syncIntervalMs',
      options.syncIntervalMs ?? Math.max(50, Math.min(1000, Math.floor(maxStalenessMs / 4))),
    ),
    clockSkewMs: nonNegativeInteger('clockSkewMs', options.clockSkewMs ?? DEFAULT_CLOCK_SKEW_MS),
  };
}
