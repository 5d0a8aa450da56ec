import { Logger } from '@nestjs/common';
import { ServerRedis } from '@nestjs/microservices';
import { type Redis } from 'ioredis';
import { type RevocationSynchronizer } from '@rescind/revocation-core';
import {
  closeRedisClient,
  createRedisClient,
  reconnectDelay,
  type RedisClient,
  type RedisTopology,
} from '@rescind/revocation-redis';

/** Connection options of {@link RevocationEventsServer}. */
export interface RevocationEventsServerOptions {
  /** Where Redis is: one server, a Sentinel-managed master, or a cluster. */
  readonly topology: RedisTopology;
  /** Name of the subscriber connection (`CLIENT LIST`). */
  readonly connectionName: string;
  /** The revocation channel. */
  readonly channel: string;
}

/**
 * Receives revocation events through `@nestjs/microservices`' Redis transport (connect it with
 * `app.connectMicroservice({ strategy })`). The transport is fire-and-forget, so this subclass
 * tells the synchroniser whenever the subscription is (re)established or lost; the synchroniser
 * then catches up from the log (hard parts 1 and 10).
 */
export class RevocationEventsServer extends ServerRedis {
  private readonly channel: string;
  private readonly sync: RevocationSynchronizer;
  private readonly log = new Logger(RevocationEventsServer.name);
  private lastErrorLoggedMs = 0;

  private readonly topology: RedisTopology;
  private readonly connectionName: string;

  constructor(options: RevocationEventsServerOptions, sync: RevocationSynchronizer) {
    super({ retryAttempts: Number.MAX_SAFE_INTEGER });
    this.channel = options.channel;
    this.topology = options.topology;
    this.connectionName = options.connectionName;
    this.sync = sync;
  }

  /**
   * The client factory seam. In a cluster, a plain connection to one node: plain PUBLISH reaches
   * subscribers on every node, and unlike ioredis' Cluster (which re-subscribes elsewhere and
   * emits nothing) it reports `close`/`ready`, so every lost subscription is followed by a
   * catch-up. Each reconnection attempt moves to the next node.
   */
  override createRedisClient(): RedisClient {
    const retryStrategy = (attempt: number): number | null =>
      this.createRetryStrategy(attempt) ?? null;
    if (this.topology.kind !== 'cluster') {
      return createRedisClient(this.topology, {
        connectionName: this.connectionName,
        retryStrategy,
      });
    }
    const nodes = this.topology.nodes;
    let next = 0;
    const client = createRedisClient(
      { kind: 'standalone', url: this.topology.url },
      {
        ...nodes[0],
        db: 0,
        connectionName: this.connectionName,
        retryStrategy: (attempt) => {
          // ioredis reads host and port from its options on every attempt.
          next = (next + 1) % nodes.length;
          Object.assign(client.options, nodes[next]);
          return retryStrategy(attempt);
        },
      },
    ) as Redis;
    return client;
  }

  override listen(callback: (err?: unknown, ...optionalParams: unknown[]) => void): void {
    this.addHandler(this.channel, async (data: unknown) => this.sync.onMessage(data), true);
    this.on('ready', (client) => {
      if (client === 'sub') this.confirmSubscription();
    });
    this.on('close', (client) => {
      if (client === 'sub') this.sync.onSubscriptionLost();
    });
    super.listen(callback);
  }

  /**
   * Unlike the stock transport, start even while Redis is down: the replica must come up, report
   * itself not ready, and sync once Redis is back. ioredis keeps reconnecting meanwhile.
   */
  override start(callback?: () => void): void {
    // No SUBSCRIBE here: queued while Redis is down it would outlive close(). The subscription
    // is (re)made on every `ready` by confirmSubscription().
    this.subClient.on('message', this.getMessageHandler(this.pubClient).bind(this));
    for (const client of [this.subClient, this.pubClient]) {
      (client.connect() as Promise<void>).catch(() => undefined);
    }
    callback?.();
  }

  /** Quits cleanly when connected; otherwise just drops the connection attempts. */
  override async close(): Promise<void> {
    this.isManuallyClosed = true;
    await Promise.all(
      [this.pubClient, this.subClient].map((client: RedisClient | undefined) =>
        client === undefined ? undefined : closeRedisClient(client),
      ),
    );
    this.pendingEventListeners = [];
  }

  /** Every message on the channel is an event; a request packet (with `id`) is not ours. */
  override async handleMessage(channel: string, buffer: string): Promise<void> {
    const message = this.parseMessage(buffer) as { id?: unknown; data?: unknown } | string;
    if (typeof message !== 'object' || message === null || message.id !== undefined) {
      this.sync.onMessage(undefined);
      return;
    }
    if (channel !== this.channel) return;
    this.sync.onMessage(message.data);
  }

  override createRetryStrategy(attempt: number): number | undefined {
    return this.isManuallyClosed ? undefined : reconnectDelay(attempt);
  }

  override registerErrorListener(client: {
    on: (event: 'error', fn: (error: Error) => void) => void;
  }): void {
    client.on('error', (error) => {
      // Reconnection errors repeat every attempt; one line every 10 s is enough.
      const now = Date.now();
      if (now - this.lastErrorLoggedMs < 10_000) return;
      this.lastErrorLoggedMs = now;
      this.log.warn(`Redis subscription: ${error.message}`);
    });
  }

  private confirmSubscription(): void {
    // ioredis re-subscribes on reconnect; SUBSCRIBE again and wait for its reply so that we know
    // the subscription is live before catching up (a duplicate SUBSCRIBE is harmless).
    (this.subClient.subscribe(this.channel) as Promise<unknown>)
      .then(() => this.sync.onSubscribed())
      .catch(() => undefined);
  }
}
