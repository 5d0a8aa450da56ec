import { REVOCATION_DEFAULTS } from '@rescind/revocation-core';
import {
  checkRedisTopology,
  effectiveKeyPrefix,
  parseRedisNodes,
  type RedisNode,
  type RedisTopology,
  type RedisTopologyNames,
} from '@rescind/revocation-redis';
import { type EnvReader } from './env-reader';

/** Where Redis is and which keys are ours: what every process of a deployment reads alike. */
export interface RedisConfig {
  /** `REDIS_URL` */
  readonly redisUrl: string;
  /** `REDIS_URL` with `REDIS_SENTINELS` (`host:port,…`) and `REDIS_SENTINEL_NAME`, or `REDIS_CLUSTER_NODES`. */
  readonly redisTopology: RedisTopology;
  /** `KEY_PREFIX`, hash-tagged in a cluster (`rvk` → `{rvk}`). */
  readonly keyPrefix: string;
}

/** The default of `REDIS_URL`: a Redis on this host, as `npm start` and development expect. */
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/** The environment variables that name the parts of a topology, as problems report them. */
const ENV_NAMES: RedisTopologyNames = {
  topology: 'REDIS_URL',
  url: 'REDIS_URL',
  sentinels: 'REDIS_SENTINELS',
  sentinelName: 'REDIS_SENTINEL_NAME',
  clusterNodes: 'REDIS_CLUSTER_NODES',
};

function nodes(read: EnvReader, name: string): RedisNode[] | undefined {
  const list = read.optional(name);
  if (list === undefined) return undefined;
  try {
    return parseRedisNodes(list, name);
  } catch (error) {
    read.fail((error as Error).message);
    return undefined;
  }
}

/**
 * Reads the Redis part of the environment: the topology (validated by the one validator of
 * `@rescind/revocation-redis`, its problems named by variable) and the key prefix.
 */
export function readRedisConfig(read: EnvReader): RedisConfig {
  const redisUrl = read.string('REDIS_URL', DEFAULT_REDIS_URL);
  const sentinels = nodes(read, 'REDIS_SENTINELS');
  const cluster = nodes(read, 'REDIS_CLUSTER_NODES');
  const name = read.optional('REDIS_SENTINEL_NAME');
  if (sentinels !== undefined && cluster !== undefined) {
    read.fail('REDIS_SENTINELS and REDIS_CLUSTER_NODES exclude each other');
  }
  const { topology, problems } = checkRedisTopology(
    cluster !== undefined
      ? { kind: 'cluster', url: redisUrl, nodes: cluster }
      : sentinels !== undefined
        ? { kind: 'sentinel', url: redisUrl, sentinels, name: name ?? '' }
        : { kind: 'standalone', url: redisUrl },
    ENV_NAMES,
  );
  for (const problem of problems) read.fail(problem);
  return {
    redisUrl,
    redisTopology: topology,
    keyPrefix: effectiveKeyPrefix(
      read.matching(
        'KEY_PREFIX',
        REVOCATION_DEFAULTS.keyPrefix,
        /^[A-Za-z0-9_.:{}-]{1,62}$/,
        '1-62 of [A-Za-z0-9_.:{}-]',
      ),
      topology,
    ),
  };
}
