import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { type ConnectionLogger, logConnectionChanges } from './connection-log';
import { type RedisClient, type RedisTopology } from './redis-topology';

/**
 * Connection options for ioredis from a `redis://` or `rediss://` URL (user, password, db and
 * TLS included). The NestJS Redis transport takes options, not URLs, hence this one parser.
 */
export function redisOptionsFromUrl(url: string): RedisOptions {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new RangeError('REDIS_URL is not a URL');
  }
  // Error messages name the host only: the URL may carry a password.
  const where = `${parsed.protocol}//${parsed.host}`;
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new RangeError(`REDIS_URL must start with redis:// or rediss://, got "${where}"`);
  }
  const db = parsed.pathname.length > 1 ? Number(parsed.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) {
    throw new RangeError(`REDIS_URL for ${where} has a bad database number`);
  }
  const options: RedisOptions = {
    host: parsed.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
    port: parsed.port === '' ? 6379 : Number(parsed.port),
    db,
  };
  try {
    if (parsed.username !== '') options.username = decodeURIComponent(parsed.username);
    if (parsed.password !== '') options.password = decodeURIComponent(parsed.password);
  } catch {
    throw new RangeError(`REDIS_URL for ${where} has a badly percent-encoded user or password`);
  }
  if (parsed.protocol === 'rediss:') options.tls = { servername: parsed.hostname };
  return options;
}

/**
 * Reconnection back-off: a quick first retry, then doubling to one attempt a second, forever.
 * The same delays for every replica, deliberately not jittered: after a failover, a replica
 * holding the only copy of a revocation the store lost writes it back when it reconnects, and
 * with jittered (unequal) reconnections the others could be ready and accepting that token up to
 * a back-off before it is back (docs/design.md, "Pub/sub is at-most-once").
 */
export function reconnectDelay(attempt: number): number {
  // ioredis counts attempts from 1. The first retry is almost immediate: a killed connection
  // (CLIENT KILL, a proxy restart) is usually back at once, and fan-out waits on it.
  return attempt <= 1 ? 10 : Math.min(25 * 2 ** Math.min(attempt, 6), 1000);
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

/** Names a connection in log lines: its name and where it goes, never the URL's password. */
export function connectionLabel(topology: RedisTopology, name: string | undefined): string {
  let where: string;
  switch (topology.kind) {
    case 'standalone': {
      const { host, port } = redisOptionsFromUrl(topology.url);
      where = `${String(host)}:${String(port)}`;
      break;
    }
    case 'sentinel':
      where = `master ${topology.name} (Sentinel)`;
      break;
    case 'cluster':
      where = `cluster ${topology.nodes.map((node) => `${node.host}:${node.port}`).join(',')}`;
      break;
  }
  return `${name ?? 'connection'} to ${where}`;
}

/**
 * Creates a client (lazily connected) for the topology, with its `error` listener: connection
 * changes go to `logger`, once per change of state (`logConnectionChanges`), under `label`.
 */
export function createRedisClient(
  topology: RedisTopology,
  overrides: RedisOptions = {},
  logger?: ConnectionLogger,
  label: string = connectionLabel(topology, overrides.connectionName),
): RedisClient {
  const client = newRedisClient(topology, overrides);
  logConnectionChanges(client, label, logger);
  return client;
}

function newRedisClient(topology: RedisTopology, overrides: RedisOptions): RedisClient {
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

/**
 * A command client that fails fast while disconnected, so that callers answer 503 instead of
 * queueing requests behind a dead connection, and reconnects on its own.
 */
export function createCommandClient(
  topology: RedisTopology,
  name: string,
  overrides: RedisOptions = {},
  logger?: ConnectionLogger,
): RedisClient {
  return createRedisClient(
    topology,
    {
      connectionName: name,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: 2000,
      ...overrides,
    },
    logger,
  );
}

/**
 * Closes a client whatever its state: QUIT when connected, otherwise stop reconnecting and wait
 * (briefly) for the connection attempt to end, so that nothing keeps the process alive.
 */
export async function closeRedisClient(client: RedisClient): Promise<void> {
  if (client.status === 'end') return;
  if (client.status === 'ready') {
    try {
      await client.quit();
      return;
    } catch {
      // fall through: the connection broke while quitting
    }
  }
  const ended = new Promise<void>((resolve) => client.once('end', () => resolve()));
  client.disconnect();
  // Between two attempts there is no socket: disconnect() cancelled the timer, nothing remains.
  if (client.status === 'reconnecting') return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([ended, new Promise<void>((resolve) => (timer = setTimeout(resolve, 1000)))]);
  clearTimeout(timer);
}
