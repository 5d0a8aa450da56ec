import {
  defaultSyncIntervalMs,
  REVOCATION_DEFAULTS,
  type Milliseconds,
  type Revocation,
  RevocationCache,
  RevocationSynchronizer,
} from '@rescind/revocation-core';
import {
  closeRedisClient,
  createCommandClient,
  createSubscriberClient,
  EventCodec,
  RedisKeys,
  type RedisClient,
  type RedisTopology,
  reconnectDelay,
  RevocationStore,
} from '@rescind/revocation-redis';
import { type Redis } from 'ioredis';

/** Where a cache reports the revocations it applied: their id and when they were made. */
export interface ApplyRecorder {
  onApplied(revocation: Revocation): void;
}

/** The product's cache, reporting every revocation that changed it, however it arrived. */
class RecordingCache extends RevocationCache {
  constructor(
    maxEntries: number,
    private readonly recorder: ApplyRecorder,
  ) {
    super({ maxEntries });
  }

  override add(revocation: Revocation, nowMs: Milliseconds): boolean {
    const added = super.add(revocation, nowMs);
    if (added) this.recorder.onApplied(revocation);
    return added;
  }
}

/**
 * One API replica's revocation machinery without the HTTP server: the product's cache and
 * synchroniser, its own command connection (store) and subscriber connection, wired as
 * `RevocationEventsServer` and `RevocationSyncService` wire them (libs/revocation-nest): subscribe
 * on every `ready` and catch up once it is answered, report every `close`, hand every message to
 * the synchroniser, tick anti-entropy every `SYNC_INTERVAL_MS` from the first connection on.
 */
export class SimulatedReplica {
  readonly cache: RevocationCache;
  readonly sync: RevocationSynchronizer;
  private readonly command: RedisClient;
  private readonly subscriber: Redis;
  private readonly channel: string;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  subscriberCloses = 0;
  syncErrors = 0;

  constructor(
    topology: RedisTopology,
    keyPrefix: string,
    name: string,
    maxEntries: number,
    recorder: ApplyRecorder,
  ) {
    const keys = new RedisKeys(keyPrefix);
    this.channel = keys.channel;
    this.cache = new RecordingCache(maxEntries, recorder);
    this.command = createCommandClient(topology, `${name}-cmd`);
    const store = new RevocationStore(this.command, keys);
    this.sync = new RevocationSynchronizer(this.cache, store, {
      observer: { onSyncError: () => this.syncErrors++ },
    });
    this.subscriber = createSubscriberClient(topology, {
      connectionName: `${name}-sub`,
      retryStrategy: (attempt) => (this.closed ? null : reconnectDelay(attempt)),
    });
  }

  /** Connects both connections; the replica hydrates and subscribes on its own from there. */
  start(): void {
    const subscriber = this.subscriber;
    subscriber.on('error', () => undefined);
    subscriber.on('ready', () => {
      subscriber
        .subscribe(this.channel)
        .then(() => this.sync.onSubscribed())
        .catch(() => undefined);
    });
    subscriber.on('close', () => {
      if (this.closed) return;
      this.subscriberCloses++;
      this.sync.onSubscriptionLost();
    });
    subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.channel) this.sync.onMessage(EventCodec.decodeMessage(message));
    });
    subscriber.connect().catch(() => undefined);

    this.command.on('error', () => undefined);
    const intervalMs = defaultSyncIntervalMs(REVOCATION_DEFAULTS.maxStalenessMs);
    this.command.once('ready', () => {
      void this.sync.tick();
      this.timer = setInterval(() => void this.sync.tick(), intervalMs);
    });
    this.command.connect().catch(() => undefined);
  }

  async stop(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    this.sync.stop();
    await Promise.all([closeRedisClient(this.subscriber), closeRedisClient(this.command)]);
  }
}
