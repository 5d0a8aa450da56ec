import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { type Clock, RevocationCache, RevocationSynchronizer } from '@rescind/revocation-core';
import {
  type ConfirmationTarget,
  confirmsRevocation,
  PresencePublisher,
  PresenceStore,
  RedisKeys,
  type RedisClient,
  type ReplicaStatus,
} from '@rescind/revocation-redis';
import { REVOCATION_CLOCK, REVOCATION_OPTIONS, REVOCATION_REDIS } from './revocation.constants';
import { PRESENCE_SIGNAL, type PresenceSignal } from './presence-signal';
import { RevocationHealth } from './revocation-health';
import { type ResolvedRevocationOptions } from './revocation-module-options';

/** One replica's part in a revocation's confirmation. */
export interface ReplicaConfirmation {
  readonly instance: string;
  readonly confirmed: boolean;
}

/** How many ready replicas have applied a revocation (docs/design.md, "Fleet presence"). */
export interface RevocationConfirmations {
  /** Ready replicas whose applied position covers it. */
  readonly confirmedBy: number;
  /** Ready replicas in the fleet. */
  readonly readyReplicas: number;
  /** Every listed replica, sorted by instance. */
  readonly replicas: readonly ReplicaConfirmation[];
}

/**
 * Fleet presence (docs/design.md, "Fleet presence"): publishes this replica's status to the
 * store with a short TTL, promptly when its log position moves but coalesced, and removes it on
 * a clean shutdown; lists the fleet and tells which replicas have applied a revocation.
 * Advisory: no revocation decision reads it.
 */
@Injectable()
export class RevocationPresence implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly store: PresenceStore;
  private readonly publisher: PresencePublisher;
  private readonly startedAt: string;

  constructor(
    private readonly sync: RevocationSynchronizer,
    private readonly cache: RevocationCache,
    private readonly health: RevocationHealth,
    @Inject(REVOCATION_REDIS) private readonly redis: RedisClient,
    keys: RedisKeys,
    @Inject(REVOCATION_OPTIONS) private readonly options: ResolvedRevocationOptions,
    @Inject(REVOCATION_CLOCK) private readonly clock: Clock,
    @Inject(PRESENCE_SIGNAL) signal: PresenceSignal,
  ) {
    this.startedAt = new Date(clock.now()).toISOString();
    this.store = new PresenceStore(redis, keys);
    this.publisher = new PresencePublisher(this.store, () => this.status(), {
      heartbeatMs: options.presenceHeartbeatMs,
      ttlMs: options.presenceTtlMs,
      minIntervalMs: options.presenceMinIntervalMs,
      clock,
      logger: new Logger('RevocationPresence'),
    });
    signal.notify = () => this.publisher.notify();
  }

  /** This replica's status as it publishes it. */
  status(): ReplicaStatus {
    const now = this.clock.now();
    const state = this.sync.state;
    const readiness = this.health.readiness();
    return {
      instance: this.options.instanceId,
      ...(this.options.region === undefined ? {} : { region: this.options.region }),
      log_position:
        state.position === null ? null : { epoch: state.position.epoch, seq: state.position.seq },
      ready: readiness.ready,
      in_sync:
        state.hydrated &&
        state.subscribed &&
        state.caughtUp &&
        state.storeReachable &&
        !this.sync.isStale(now),
      staleness_ms: readiness.stalenessMs,
      cache_entries: this.cache.size,
      reported_at: new Date(now).toISOString(),
      started_at: this.startedAt,
    };
  }

  /** Every replica whose status has not expired, sorted by instance. */
  fleet(): Promise<ReplicaStatus[]> {
    return this.store.list();
  }

  /** Which replicas of the fleet have applied a revocation, by {@link confirmsRevocation}. */
  async confirmations(target: ConfirmationTarget): Promise<RevocationConfirmations> {
    const fleet = await this.fleet();
    const replicas = fleet.map((status) => ({
      instance: status.instance,
      confirmed: confirmsRevocation(status, target),
    }));
    return {
      confirmedBy: replicas.filter((replica) => replica.confirmed).length,
      readyReplicas: fleet.filter((status) => status.ready).length,
      replicas,
    };
  }

  onApplicationBootstrap(): void {
    // From the first connection on, as the synchroniser's ticks: before it, writes only fail.
    if (this.redis.status === 'ready') this.publisher.start();
    else this.redis.once('ready', () => this.publisher.start());
  }

  /** Before the connections close (`onApplicationShutdown`), so that the removal reaches Redis. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.publisher.stop();
  }
}
