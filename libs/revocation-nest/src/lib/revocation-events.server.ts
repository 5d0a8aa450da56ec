import { Logger } from '@nestjs/common';
import {
  type ConsumerDeserializer,
  type CustomTransportStrategy,
  type IncomingEvent,
  type MessageHandler,
  RedisContext,
  Server,
} from '@nestjs/microservices';
import { isObservable } from 'rxjs';
import { type Redis } from 'ioredis';
import { type RevocationSynchronizer } from '@rescind/revocation-core';
import {
  closeRedisClient,
  createSubscriberClient,
  EventCodec,
  reconnectDelay,
  type RedisTopology,
} from '@rescind/revocation-redis';
import { REVOCATION_EVENT } from './revocation-events.controller';

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
 * Turns a message of the revocation channel into an event of pattern {@link REVOCATION_EVENT}:
 * the event codec decodes it, validation is left to the synchroniser. A message in the NestJS
 * Redis transport's framing (`{pattern, data}`, what builds before the event codec published)
 * is unwrapped, so that replicas of both builds understand each other during a rolling upgrade;
 * a request packet of that transport (with an `id`) is not an event and reaches the handler as
 * nothing, to be counted as malformed.
 */
export class RevocationEventDeserializer implements ConsumerDeserializer {
  deserialize(message: unknown): IncomingEvent {
    const decoded = typeof message === 'string' ? EventCodec.decodeMessage(message) : undefined;
    return { pattern: REVOCATION_EVENT, data: unwrapLegacyFraming(decoded) };
  }
}

function unwrapLegacyFraming(decoded: unknown): unknown {
  if (typeof decoded !== 'object' || decoded === null || Array.isArray(decoded)) return decoded;
  const has = (key: string): boolean => Object.prototype.hasOwnProperty.call(decoded, key);
  if (!has('pattern') || !has('data')) return decoded;
  const packet = decoded as { id?: unknown; data?: unknown };
  return packet.id === undefined ? packet.data : undefined;
}

/** Events {@link RevocationEventsServer.on} can listen to: those of its ioredis connection. */
export type RevocationEventsServerEvents = Record<
  'ready' | 'close' | 'error' | 'end' | 'reconnecting',
  (...args: unknown[]) => void
>;
type ConnectionEvent = keyof RevocationEventsServerEvents;

/** What {@link RevocationEventsServer.status} reports, as the stock Redis transport does. */
export type RevocationEventsServerStatus = 'connected' | 'disconnected' | 'reconnecting';

/**
 * Receives revocation events over Redis pub/sub, as a custom transport of
 * `@nestjs/microservices` (connect it with `RevocationModule.connect(app)`), through ONE
 * subscriber connection. Each message is decoded by the event codec and dispatched to the
 * `@EventPattern(REVOCATION_EVENT)` handler. Pub/sub is fire-and-forget, so the server also tells
 * the synchroniser whenever the subscription is (re)established or lost; the synchroniser then
 * catches up from the log (docs/design.md, "Pub/sub is at-most-once").
 */
export class RevocationEventsServer
  extends Server<RevocationEventsServerEvents, RevocationEventsServerStatus>
  implements CustomTransportStrategy
{
  private readonly log = new Logger(RevocationEventsServer.name);
  private client: Redis | null = null;
  private closed = false;
  private started = false;
  private readonly pendingListeners: [ConnectionEvent, (...args: unknown[]) => void][] = [];
  private readonly context: RedisContext;
  /** The `@EventPattern(REVOCATION_EVENT)` handler, looked up once it is registered. */
  private handler: MessageHandler | null = null;

  constructor(
    private readonly options: RevocationEventsServerOptions,
    private readonly sync: RevocationSynchronizer,
  ) {
    super();
    this.initializeDeserializer({ deserializer: new RevocationEventDeserializer() });
    this.context = new RedisContext([options.channel]);
  }

  /**
   * Connects and subscribes. Unlike the stock Redis transport it starts even while Redis is down:
   * the replica must come up, report itself not ready, and sync once Redis is back; ioredis
   * keeps reconnecting meanwhile.
   */
  listen(callback: (...optionalParams: unknown[]) => void): void {
    this.closed = false;
    this.started = true;
    // NestJS registers the handlers before it starts the transport.
    this.handler = this.getHandlerByPattern(REVOCATION_EVENT);
    if (this.handler === null) {
      this.log.error(
        `no @EventPattern('${REVOCATION_EVENT}') handler: revocation events would be lost ` +
          '(import RevocationModule, which provides RevocationEventsController)',
      );
    }
    // Its connection errors are logged once per outage, by the client itself.
    const client = createSubscriberClient(this.options.topology, {
      connectionName: this.options.connectionName,
      retryStrategy: (attempt) => (this.closed ? null : reconnectDelay(attempt)),
      logger: new Logger('RedisSubscription'),
    });
    this.client = client;
    // No SUBSCRIBE before the connection is ready: queued while Redis is down it would outlive
    // close(). It is (re)made on every `ready`.
    client.on('ready', () => {
      this._status$.next('connected');
      this.confirmSubscription(client);
    });
    client.on('close', () => {
      this._status$.next('disconnected');
      this.sync.onSubscriptionLost();
    });
    client.on('reconnecting', () => this._status$.next('reconnecting'));
    client.on('message', (channel: string, message: string) => {
      void this.handleMessage(channel, message);
    });
    for (const [event, listener] of this.pendingListeners) client.on(event, listener);
    client.connect().catch(() => undefined);
    callback();
  }

  /**
   * Whether `RevocationModule.connect(app)` started this transport: without it the replica
   * learns of revocations only by polling the log.
   */
  get connected(): boolean {
    return this.started;
  }

  /** Quits cleanly when connected; otherwise just drops the connection attempts. */
  async close(): Promise<void> {
    this.closed = true;
    const client = this.client;
    this.client = null;
    if (client !== null) await closeRedisClient(client);
  }

  /** Listens to an event of the subscriber connection (also those made before `listen`). */
  on<
    EventKey extends ConnectionEvent = ConnectionEvent,
    EventCallback extends RevocationEventsServerEvents[EventKey] =
      RevocationEventsServerEvents[EventKey],
  >(event: EventKey, callback: EventCallback): void {
    if (this.client !== null) this.client.on(event, callback);
    else this.pendingListeners.push([event, callback]);
  }

  /** The ioredis subscriber connection. @throws Error before `listen` */
  unwrap<T>(): T {
    if (this.client === null) {
      throw new Error(
        'RevocationEventsServer is not listening; call RevocationModule.connect(app)',
      );
    }
    return this.client as T;
  }

  /**
   * Decodes a message of the channel and hands it to the handler of its pattern, called directly
   * as the custom transports of the NestJS documentation do: propagation is on the hot path, and
   * `handleEvent`'s extra promise layers cost as much again as the whole handler pipeline.
   */
  private handleMessage(channel: string, message: string): Promise<void> {
    if (channel !== this.options.channel) return Promise.resolve();
    // Our own deserializer answers synchronously: no await between the socket and the handler.
    const packet = this.deserializer.deserialize(message, { channel }) as IncomingEvent;
    const handler = (this.handler ??= this.getHandlerByPattern(packet.pattern));
    // None registered: handleEvent logs it, as for any transport.
    if (handler === null) return this.handleEvent(packet.pattern, packet, this.context);
    return handler(packet.data, this.context).then(
      (result: unknown) => {
        // An interceptor may turn the result into a stream; it runs once subscribed.
        if (isObservable(result)) result.subscribe({ error: (error) => this.failed(error) });
      },
      (error: unknown) => this.failed(error),
    );
  }

  private failed(error: unknown): void {
    this.log.error(`revocation event not handled: ${String(error)}`);
  }

  private confirmSubscription(client: Redis): void {
    // ioredis re-subscribes on reconnect; SUBSCRIBE again and wait for its reply so that we know
    // the subscription is live before catching up (a duplicate SUBSCRIBE is harmless).
    client
      .subscribe(this.options.channel)
      .then(() => this.sync.onSubscribed())
      .catch(() => undefined);
  }
}
