import { type Cluster, type Redis } from 'ioredis';

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

/** A topology, or a `redis://` / `rediss://` URL as shorthand for a standalone server. */
export type RedisTopologyInput = string | RedisTopology;

/** What the problems found by {@link checkRedisTopology} call each part of the topology. */
export interface RedisTopologyNames {
  readonly topology: string;
  readonly url: string;
  readonly sentinels: string;
  readonly sentinelName: string;
  readonly clusterNodes: string;
  /**
   * Whether a bad URL is quoted with its user and password masked. Options come from code that
   * may log the error; the environment layer quotes the value as it was given.
   */
  readonly maskCredentials?: boolean;
}

/** The names of the topology's parts as an option `redis` of a module. */
export const REDIS_OPTION_NAMES: RedisTopologyNames = {
  topology: 'redis',
  url: 'redis.url',
  sentinels: 'redis.sentinels',
  sentinelName: 'redis.name',
  clusterNodes: 'redis.nodes',
  maskCredentials: true,
};

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

function checkUrl(url: unknown, names: RedisTopologyNames, problems: string[]): void {
  const quoted = names.maskCredentials
    ? String(url).replace(/\/\/[^/@\s]*@/, '//***@')
    : String(url);
  if (typeof url !== 'string' || !/^rediss?:\/\/[^\s]+$/.test(url)) {
    problems.push(`${names.url} must be a redis:// or rediss:// URL, got "${quoted}"`);
  }
  try {
    new URL(String(url));
  } catch {
    problems.push(`${names.url} is not a valid URL: "${quoted}"`);
  }
}

function checkNodes(nodes: unknown, name: string, problems: string[]): void {
  if (!Array.isArray(nodes) || nodes.length === 0) {
    problems.push(`${name} lists no host:port`);
    return;
  }
  for (const node of nodes as readonly Partial<RedisNode>[]) {
    const { host, port } = node ?? {};
    if (
      typeof host !== 'string' ||
      host === '' ||
      !Number.isInteger(port) ||
      (port as number) < 1 ||
      (port as number) > 65_535
    ) {
      problems.push(`${name} must be host:port entries, got "${String(host)}:${String(port)}"`);
    }
  }
}

/** Validated topologies, so that a value checked once (by the config layer) is not checked again. */
const checked = new WeakSet<RedisTopology>();

/**
 * The one validator of a topology: the URL, the node lists and the Sentinel master name. Returns
 * every problem found, each starting with the name `names` gives the part, so that the
 * environment layer reports `REDIS_SENTINEL_NAME …` where a module option reports `redis.name …`.
 */
export function checkRedisTopology(
  input: RedisTopologyInput,
  names: RedisTopologyNames = REDIS_OPTION_NAMES,
): { readonly topology: RedisTopology; readonly problems: readonly string[] } {
  const topology: RedisTopology =
    typeof input === 'string' ? { kind: 'standalone', url: input } : input;
  if (checked.has(topology)) return { topology, problems: [] };
  const problems: string[] = [];
  if (typeof topology !== 'object' || topology === null) {
    problems.push(`${names.topology} must be a redis:// URL or a topology, got ${String(input)}`);
    return { topology, problems };
  }
  checkUrl(topology.url, names, problems);
  switch (topology.kind) {
    case 'standalone':
      break;
    case 'sentinel':
      checkNodes(topology.sentinels, names.sentinels, problems);
      if (typeof topology.name !== 'string' || topology.name === '') {
        problems.push(`${names.sentinelName} is required with ${names.sentinels}`);
      }
      break;
    case 'cluster':
      checkNodes(topology.nodes, names.clusterNodes, problems);
      break;
    default:
      problems.push(
        `${names.topology}.kind must be one of standalone, sentinel, cluster, got "${String((topology as { kind: unknown }).kind)}"`,
      );
  }
  if (problems.length === 0) checked.add(topology);
  return { topology, problems };
}

/**
 * A topology from a URL or a topology value, validated once.
 * @throws RangeError listing every problem, each naming the part (`redis.url`, `redis.name`, …)
 */
export function resolveRedisTopology(
  input: RedisTopologyInput,
  names: RedisTopologyNames = REDIS_OPTION_NAMES,
): RedisTopology {
  const { topology, problems } = checkRedisTopology(input, names);
  if (problems.length > 0) throw new RangeError(problems.join('; '));
  return topology;
}

/**
 * In a cluster, multi-key scripts need every key in one slot: a prefix without a hash tag gets
 * one (`rvk` → `{rvk}`), which also suits BullMQ. Elsewhere the prefix is kept as it is.
 */
export function effectiveKeyPrefix(prefix: string, topology: RedisTopology): string {
  return topology.kind === 'cluster' && !/\{[^}]+\}/.test(prefix) ? `{${prefix}}` : prefix;
}
