import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { reconnectDelay, redisOptionsFromUrl } from './redis-connection';

/** A command-capable client: one server (or a Sentinel-managed master), or a Redis Cluster. */
export type RedisClient = Redis | Cluster;

/** A host and port of a Sentinel or a cluster node. */
export interface RedisNode {
  readonly host: string;
  readonly port: number;
}

/** Where Redis is and how to reach it. */
export type RedisTopology =
  | { readonly kind: 'standalone'; readonly url: string }
  /** A master found through Sentinel; credentials and TLS for the data nodes come from `url`. */
  | {
      readonly kind: 'sentinel';
      readonly url: string;
      readonly sentinels: readonly RedisNode[];
      readonly name: string;
    }
  /** A Redis Cluster; credentials and TLS for the nodes come from `url`. */
  | { readonly kind: 'cluster'; readonly url: string; readonly nodes: readonly RedisNode[] };

/**
 * Parses `host:port,host:port` (IPv6 as `[::1]:7000`).
 * @throws RangeError naming the bad entry
 */
export function parseRedisNodes(list: string, what: string): RedisNode[] {
  const nodes = list
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0)
    .map((entry) => {
      const match = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(entry);
      const port = Number(match?.[2]);
      if (match === null || port < 1 || port > 65_535) {
        throw new RangeError(`${what} must be host:port entries, got "${entry}"`);
      }
      return { host: (match[1] as string).replace(/^\[|\]$/g, ''), port };
    });
  if (nodes.length === 0) throw new RangeError(`${what} lists no host:port`);
  return nodes;
}

/**
 * In a cluster, multi-key scripts need every key in one slot: a prefix without a hash tag gets
 * one (`rvk` → `{rvk}`), which also suits BullMQ. Elsewhere the prefix is kept as it is.
 */
export function effectiveKeyPrefix(prefix: string, topology: RedisTopology): string {
  return topology.kind === 'cluster' && !/\{[^}]+\}/.test(prefix) ? `{${prefix}}` : prefix;
}

/** ioredis options for one node (standalone, Sentinel master, or a cluster node). */
export function nodeOptions(topology: RedisTopology, overrides: RedisOptions = {}): RedisOptions {
  const fromUrl = redisOptionsFromUrl(topology.url);
  const base: RedisOptions = { retryStrategy: reconnectDelay, ...overrides };
  switch (topology.kind) {
    case 'standalone':
      return { ...fromUrl, ...base };
    case 'sentinel': {
      const { host: _host, port: _port, ...credentials } = fromUrl;
      return {
        ...credentials,
        ...base,
        sentinels: topology.sentinels.map((node) => ({ ...node })),
        name: topology.name,
        sentinelRetryStrategy: reconnectDelay,
        // Reconnect as soon as the sentinels announce a new master (+switch-master), rather than
        // when the demoted one drops us seconds later.
        failoverDetector: true,
      };
    }
    case 'cluster': {
      const { host: _host, port: _port, db: _db, ...credentials } = fromUrl;
      return { ...credentials, ...base };
    }
  }
}

/** Creates a client (lazily connected) for the topology. */
export function createRedisClient(
  topology: RedisTopology,
  overrides: RedisOptions = {},
): RedisClient {
  const options: RedisOptions = { lazyConnect: true, ...nodeOptions(topology, overrides) };
  if (topology.kind !== 'cluster') return new Redis(options);
  const { retryStrategy: _retry, lazyConnect, enableOfflineQueue, ...redisOptions } = options;
  return new Cluster(
    topology.nodes.map((node) => ({ ...node })),
    {
      redisOptions,
      lazyConnect: lazyConnect ?? true,
      enableOfflineQueue: enableOfflineQueue ?? true,
      clusterRetryStrategy: reconnectDelay,
      // Follow MOVED/ASK and failovers quickly rather than failing requests.
      retryDelayOnFailover: 50,
      retryDelayOnClusterDown: 100,
    },
  );
}
