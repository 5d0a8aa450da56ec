import { type Redis, type RedisOptions } from 'ioredis';
import { type ConnectionLogger } from './connection-log';
import { connectionLabel, createRedisClient, reconnectDelay } from './redis-connection';
import { type RedisTopology } from './redis-topology';

/** Options of {@link createSubscriberClient}. */
export interface SubscriberClientOptions {
  /** Name of the connection (`CLIENT LIST`). */
  readonly connectionName: string;
  /**
   * Delay before reconnection attempt `attempt` (from 1), or `null` to stop reconnecting.
   * @default reconnectDelay
   */
  readonly retryStrategy?: (attempt: number) => number | null;
  /** Where connection changes are logged (`logConnectionChanges`). @default stderr */
  readonly logger?: ConnectionLogger;
}

/**
 * The handshake of a subscriber connection, cut to what a subscription needs: a fleet whose
 * subscriptions all dropped at once reconnects at once, and every round trip of each handshake
 * waits on Redis's one thread (docs/design.md, "Pub/sub is at-most-once"). No ready check: its
 * `INFO` is the heaviest command a reconnection sends, and SUBSCRIBE is served even while Redis
 * loads its data (flag `loading` in `COMMAND INFO SUBSCRIBE`); through Sentinel it stays, since it
 * is what checks that the node is the master. No `CLIENT SETINFO`. No automatic re-subscription:
 * callers subscribe on every `ready` and catch up once that SUBSCRIBE is answered, so ioredis's own
 * would be a second one.
 */
function subscriberHandshake(topology: RedisTopology): RedisOptions {
  return {
    enableReadyCheck: topology.kind === 'sentinel',
    autoResubscribe: false,
    disableClientInfo: true,
  };
}

/**
 * A lazily connected client for SUBSCRIBE; its callers subscribe on every `ready`. In a
 * cluster, a plain connection to one node: plain PUBLISH reaches subscribers on every node, and
 * unlike ioredis' Cluster (which re-subscribes elsewhere and emits nothing) it reports
 * `close`/`ready`, so that every lost subscription is followed by a catch-up (docs/design.md,
 * "Pub/sub is at-most-once"). Each reconnection attempt moves to the next node.
 */
export function createSubscriberClient(
  topology: RedisTopology,
  options: SubscriberClientOptions,
): Redis {
  const retryStrategy = options.retryStrategy ?? reconnectDelay;
  if (topology.kind !== 'cluster') {
    return createRedisClient(
      topology,
      { ...subscriberHandshake(topology), connectionName: options.connectionName, retryStrategy },
      options.logger,
    ) as Redis;
  }
  const nodes = topology.nodes;
  let next = 0;
  const overrides: RedisOptions = {
    ...subscriberHandshake(topology),
    ...nodes[0],
    db: 0,
    connectionName: options.connectionName,
    retryStrategy: (attempt) => {
      // ioredis reads host and port from its options on every attempt.
      next = (next + 1) % nodes.length;
      Object.assign(client.options, nodes[next]);
      return retryStrategy(attempt);
    },
  };
  const client = createRedisClient(
    { kind: 'standalone', url: topology.url },
    overrides,
    options.logger,
    // It moves from node to node: named after the cluster, not the URL's host.
    connectionLabel(topology, options.connectionName),
  ) as Redis;
  return client;
}
