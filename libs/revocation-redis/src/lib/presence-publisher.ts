import {
  type Clock,
  defaultPresenceTtlMs,
  type Milliseconds,
  REVOCATION_DEFAULTS,
  systemClock,
} from '@rescind/revocation-core';
import {
  type ConnectionLogger,
  describeConnectionError,
  stderrConnectionLogger,
} from './connection-log';
import { type PresenceStore } from './presence-store';
import { type ReplicaStatus } from './replica-status';

/** Options of {@link PresencePublisher}. */
export interface PresencePublisherOptions {
  /**
   * How often the status is written even when nothing changed.
   * @default REVOCATION_DEFAULTS.presenceHeartbeatMs
   */
  heartbeatMs?: Milliseconds;
  /**
   * Lifetime of the status key: a replica that stops writing is gone from the fleet this long
   * after its last write. @default defaultPresenceTtlMs(heartbeatMs), three heartbeats
   */
  ttlMs?: Milliseconds;
  /**
   * Least time between the starts of two writes: changes within it are coalesced into one
   * write at its end. @default REVOCATION_DEFAULTS.presenceMinIntervalMs
   */
  minIntervalMs?: Milliseconds;
  /** Reads the time between writes. @default systemClock */
  clock?: Clock;
  /** Where failing and recovering writes are logged, once per change. @default stderr */
  logger?: ConnectionLogger;
}

/**
 * Publishes one replica's status (docs/design.md, "Fleet presence"): on {@link start}, on every
 * heartbeat, and promptly after {@link notify} (its log position moved), coalesced so that it
 * writes at most once per `minIntervalMs` however fast the position moves, and never two writes
 * at once. Nothing it does throws to its caller; a failing store is logged once until it works
 * again, like a connection (connection-log.ts).
 */
export class PresencePublisher {
  readonly heartbeatMs: Milliseconds;
  readonly ttlMs: Milliseconds;
  readonly minIntervalMs: Milliseconds;
  private readonly clock: Clock;
  private readonly logger: ConnectionLogger;
  private heartbeat: NodeJS.Timeout | undefined;
  private trailing: NodeJS.Timeout | undefined;
  private writing: Promise<void> | null = null;
  private dirty = false;
  private lastWriteMs = Number.NEGATIVE_INFINITY;
  private running = false;
  private failing = false;
  private writes = 0;

  constructor(
    private readonly store: PresenceStore,
    private readonly status: () => ReplicaStatus,
    options: PresencePublisherOptions = {},
  ) {
    this.heartbeatMs = options.heartbeatMs ?? REVOCATION_DEFAULTS.presenceHeartbeatMs;
    this.ttlMs = options.ttlMs ?? defaultPresenceTtlMs(this.heartbeatMs);
    this.minIntervalMs = options.minIntervalMs ?? REVOCATION_DEFAULTS.presenceMinIntervalMs;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? stderrConnectionLogger;
  }

  /** Status writes started so far (for tests and metrics). */
  get writeCount(): number {
    return this.writes;
  }

  /** Writes the status now and on every heartbeat from now on. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.heartbeat = setInterval(() => this.notify(), this.heartbeatMs);
    this.heartbeat.unref();
    this.notify();
  }

  /**
   * Something in the status changed (the applied position, readiness): write it soon. Cheap
   * enough for the hot path: at most a timer is armed, and never a second one.
   */
  notify(): void {
    if (!this.running) return;
    this.dirty = true;
    this.flush();
  }

  /**
   * Stops writing and removes the status (a clean shutdown), after the write in flight if any,
   * on the same connection so that Redis applies them in that order. Never throws.
   */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    clearInterval(this.heartbeat);
    clearTimeout(this.trailing);
    this.trailing = undefined;
    try {
      await this.writing;
      await this.store.withdraw(this.status().instance);
    } catch {
      // The key expires by itself within the TTL.
    }
  }

  private flush(): void {
    if (this.writing !== null || this.trailing !== undefined) return; // picks the change up
    const waitMs = this.lastWriteMs + this.minIntervalMs - this.clock.now();
    if (waitMs > 0) {
      this.trailing = setTimeout(() => {
        this.trailing = undefined;
        this.flush();
      }, waitMs);
      this.trailing.unref();
      return;
    }
    this.write();
  }

  private write(): void {
    if (!this.running || !this.dirty) return;
    this.dirty = false;
    this.lastWriteMs = this.clock.now();
    this.writes++;
    let status: ReplicaStatus;
    try {
      status = this.status();
    } catch (error) {
      this.failed(error);
      return;
    }
    this.writing = this.store.publish(status, this.ttlMs).then(
      () => this.succeeded(),
      (error: unknown) => this.failed(error),
    );
    void this.writing.finally(() => {
      this.writing = null;
      if (this.dirty) this.flush();
    });
  }

  private succeeded(): void {
    if (!this.failing) return;
    this.failing = false;
    this.logger.log('presence: publishing the replica status again');
  }

  private failed(error: unknown): void {
    if (this.failing) return;
    this.failing = true;
    this.logger.warn(
      `presence: cannot publish the replica status (${describeConnectionError(error)}); ` +
        'retrying every heartbeat, logged again once it works',
    );
  }
}
