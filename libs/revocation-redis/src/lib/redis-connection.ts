import { type RedisOptions } from 'ioredis';
import { createRedisClient, type RedisClient, type RedisTopology } from './redis-topology';

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

/** Reconnection back-off: a quick first retry, then doubling to one attempt a second, forever. */
export function reconnectDelay(attempt: number): number {
  // ioredis counts attempts from 1. The first retry is almost immediate: a killed connection
  // (CLIENT KILL, a proxy restart) is usually back at once, and fan-out waits on it.
  return attempt <= 1 ? 10 : Math.min(25 * 2 ** Math.min(attempt, 6), 1000);
}

/**
 * A command client that fails fast while disconnected, so that callers answer 503 instead of
 * queueing requests behind a dead connection, and reconnects on its own.
 */
export function createCommandClient(
  topology: RedisTopology,
  name: string,
  overrides: RedisOptions = {},
): RedisClient {
  return createRedisClient(topology, {
    connectionName: name,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: 2000,
    ...overrides,
  });
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
