import { type Clock, systemClock } from './clock';
import { defaultSyncIntervalMs, REVOCATION_DEFAULTS } from './revocation-defaults';
import { RescindError } from './errors/rescind.error';
import {
  type LogEntry,
  type LogPosition,
  type RevocationEvent,
  type StoreHead,
} from './revocation';
import { type RevocationCache } from './revocation-cache';
import { parseRevocationEvent } from './revocation-event.parser';
import { type RevocationSource } from './revocation-source';
import { type ResyncCause, type SyncObserver } from './sync-observer';
import { type Milliseconds } from './units';

/** Options of {@link RevocationSynchronizer}. */
export interface RevocationSynchronizerOptions {
  /**
   * How long the replica may go without confirming it is in sync before it counts as stale.
   * @default REVOCATION_DEFAULTS.maxStalenessMs
   */
  maxStalenessMs?: Milliseconds;
  /** Entries read from the log per round trip. @default REVOCATION_DEFAULTS.catchUpPageSize */
  catchUpPageSize?: number;
  /**
   * While the subscription is down, catch up from the log this often, so that revocations keep
   * arriving within the fan-out budget until it is back; after four polls the period doubles
   * up to the default anti-entropy period (docs/design.md, "Pub/sub is at-most-once").
   * @default REVOCATION_DEFAULTS.unsubscribedPollMs
   */
  unsubscribedPollMs?: Milliseconds;
  /**
   * Largest disagreement tolerated between replicas' clocks: a store-wide not-before raised by
   * this replica is `now + clockSkewMs`, so that it covers tokens from clocks ahead of ours.
   * @default REVOCATION_DEFAULTS.clockSkewMs
   */
  clockSkewMs?: Milliseconds;
  /** The clock every decision reads. @default systemClock */
  clock?: Clock;
  /** Runs `callback` after `delayMs`; injectable so that a simulation controls time. */
  schedule?: (callback: () => void, delayMs: Milliseconds) => void;
  observer?: SyncObserver;
}

/** Polls at `unsubscribedPollMs` after a subscription drops, before they back off. */
const FAST_UNSUBSCRIBED_POLLS = 4;

/** The granularity of a NumericDate written in whole seconds, as most issuers write `iat`. */
const WHOLE_SECOND_MS = 1000;

function scheduleWithTimer(callback: () => void, delayMs: Milliseconds): void {
  setTimeout(callback, delayMs).unref();
}

/** A snapshot of the synchroniser's state, for readiness and metrics. */
export interface SyncState {
  readonly hydrated: boolean;
  readonly subscribed: boolean;
  readonly caughtUp: boolean;
  readonly storeReachable: boolean;
  readonly lastConfirmedMs: Milliseconds;
  readonly position: LogPosition | null;
}

/**
 * Keeps a {@link RevocationCache} equal to the store.
 *
 * Live events are applied as they arrive; the durable log is the truth. The start-up order is
 * head → snapshot → (subscription) → catch-up from head (docs/design.md, "Order of start-up").
 * A catch-up runs after every (re)subscription, on a gap in sequence numbers, and periodically
 * as anti-entropy (docs/design.md, "Pub/sub is at-most-once"). A log trimmed past our position,
 * or a store whose epoch changed, forces a full re-hydration. A store that lost its data comes
 * with a not-before that revokes every token issued before the loss; a log whose history diverged
 * from ours (a failover) gets back what we hold, logged so that every replica hears of it
 * (docs/revocation-model.md; docs/design.md, "Write-back").
 */
export class RevocationSynchronizer {
  private readonly maxStalenessMs: Milliseconds;
  private readonly pageSize: number;
  private readonly unsubscribedPollMs: Milliseconds;
  private polling = false;
  private stopped = false;
  private readonly clockSkewMs: Milliseconds;
  private readonly clock: Clock;
  private readonly schedule: (callback: () => void, delayMs: Milliseconds) => void;
  private readonly observer: SyncObserver;

  private position: LogPosition | null = null;
  /**
   * The furthest entry this replica wrote itself (the store's own reply, never a message) beyond
   * its position: a head below it, or another entry under its number, means a failover lost it
   * (docs/revocation-model.md, "Divergence").
   */
  private ownAhead: LogPosition | null = null;
  private subscribed = false;
  private subscriptionGeneration = 0;
  private caughtUpGeneration = -1;
  private storeReachable = false;
  private lastConfirmedMs: Milliseconds = 0;

  private running: Promise<void> | null = null;
  private rerun = false;
  private readonly causes = new Set<ResyncCause>();

  constructor(
    private readonly cache: RevocationCache,
    private readonly source: RevocationSource,
    options: RevocationSynchronizerOptions = {},
  ) {
    this.maxStalenessMs = options.maxStalenessMs ?? REVOCATION_DEFAULTS.maxStalenessMs;
    this.pageSize = options.catchUpPageSize ?? REVOCATION_DEFAULTS.catchUpPageSize;
    this.unsubscribedPollMs = options.unsubscribedPollMs ?? REVOCATION_DEFAULTS.unsubscribedPollMs;
    this.clockSkewMs = options.clockSkewMs ?? REVOCATION_DEFAULTS.clockSkewMs;
    this.clock = options.clock ?? systemClock;
    this.schedule = options.schedule ?? scheduleWithTimer;
    this.observer = options.observer ?? {};
  }

  /** Current state, for readiness probes and metrics. */
  get state(): SyncState {
    return {
      hydrated: this.position !== null,
      subscribed: this.subscribed,
      caughtUp: this.caughtUpGeneration === this.subscriptionGeneration,
      storeReachable: this.storeReachable,
      lastConfirmedMs: this.lastConfirmedMs,
      position: this.position,
    };
  }

  /**
   * Ready: hydrated, subscribed, caught up since the subscription began, and fresh; and the
   * store-wide not-before lies a whole second behind the clock, so that a token issued from now
   * on, even one dated in whole seconds, is not born revoked (docs/revocation-model.md).
   */
  isReady(nowMs: Milliseconds = this.clock.now()): boolean {
    return (
      this.position !== null &&
      this.subscribed &&
      this.caughtUpGeneration === this.subscriptionGeneration &&
      this.storeReachable &&
      !this.isStale(nowMs) &&
      nowMs > this.cache.notBeforeMs + WHOLE_SECOND_MS
    );
  }

  /** Whether the replica went longer than `maxStalenessMs` without confirming it is in sync. */
  isStale(nowMs: Milliseconds = this.clock.now()): boolean {
    return this.position === null || nowMs - this.lastConfirmedMs > this.maxStalenessMs;
  }

  /** Whether the cache was ever filled from the store. */
  get hydrated(): boolean {
    return this.position !== null;
  }

  /** The subscription is live again (first connection or any reconnection): catch up. */
  onSubscribed(): Promise<void> {
    this.subscriptionGeneration++;
    this.subscribed = true;
    return this.sync(this.position === null ? 'startup' : 'resubscribe');
  }

  /**
   * The subscription dropped; events published meanwhile are lost to it. Until it is back, poll
   * the log (the command connection usually survives what killed the subscription).
   */
  onSubscriptionLost(): void {
    this.subscribed = false;
    if (this.polling || this.stopped || this.position === null) return;
    this.polling = true;
    let polls = 0;
    const poll = (): void => {
      if (this.subscribed || this.stopped) {
        this.polling = false;
        return;
      }
      polls++;
      void this.sync('anti-entropy').finally(() => this.schedule(poll, this.pollDelay(polls)));
    };
    this.schedule(poll, 0);
  }

  /**
   * Delay before the next poll while unsubscribed, after `polls` of them: `unsubscribedPollMs`
   * while a quick reconnection is still likely, then doubling up to the default anti-entropy
   * period, so that a fleet whose subscriptions all dropped at once does not keep every replica
   * polling Redis 40 times a second while it reconnects (docs/design.md, "Pub/sub is
   * at-most-once").
   */
  private pollDelay(polls: number): Milliseconds {
    const doublings = Math.max(0, polls - FAST_UNSUBSCRIBED_POLLS);
    const cap = Math.max(this.unsubscribedPollMs, defaultSyncIntervalMs(this.maxStalenessMs));
    return Math.min(cap, this.unsubscribedPollMs * 2 ** Math.min(doublings, 16));
  }

  /** Stops background polling (shutdown). */
  stop(): void {
    this.stopped = true;
  }

  /** A message from the revocation channel. Malformed ones are counted and dropped. */
  onMessage(message: unknown): void {
    let event: RevocationEvent;
    try {
      event = parseRevocationEvent(message);
    } catch (error) {
      this.observer.onMalformed?.(error instanceof RescindError ? error.message : String(error));
      return;
    }
    const now = this.clock.now();
    if (this.cache.add(event, now)) this.observer.onApplied?.(event, now - event.createdAtMs);
    this.advance(event);
  }

  /**
   * Applies a revocation this replica just wrote, before the call that made it returns
   * (docs/design.md, "Read your revocation").
   */
  applyLocal(event: RevocationEvent): void {
    this.cache.add(event, this.clock.now());
    this.advance(event);
    const position = this.position;
    if (position !== null && event.epoch === position.epoch && event.seq > position.seq) {
      if (this.ownAhead === null || event.seq > this.ownAhead.seq) {
        this.ownAhead = { epoch: event.epoch, seq: event.seq, logId: event.logId };
      }
    }
  }

  /** One anti-entropy round, also the retry path while the store is unreachable. */
  tick(): Promise<void> {
    this.cache.purgeExpired(this.clock.now());
    return this.sync('anti-entropy');
  }

  /**
   * Runs (or joins) a synchronisation round. Rounds never overlap; a request made while one runs
   * makes it run once more, so every caller sees a round that started after its request.
   */
  sync(cause: ResyncCause): Promise<void> {
    this.causes.add(cause);
    if (this.running !== null) {
      this.rerun = true;
      return this.running;
    }
    this.running = this.loop().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async loop(): Promise<void> {
    do {
      this.rerun = false;
      const causes = [...this.causes];
      this.causes.clear();
      try {
        await this.syncOnce(causes);
      } catch (error) {
        this.storeReachable = false;
        this.observer.onSyncError?.(error);
        return;
      }
    } while (this.rerun);
  }

  private async syncOnce(causes: ResyncCause[]): Promise<void> {
    const generation = this.subscriptionGeneration;
    const wasSubscribed = this.subscribed;
    const startedAt = this.clock.now();
    // Live events may advance the position while the head is on its way: compare with before.
    const before = this.position;
    const ownAhead = this.ownAhead;
    let head = await this.readHead();
    const cause: ResyncCause = causes.find((c) => c !== 'anti-entropy') ?? 'anti-entropy';
    let hydrated = false;

    if (before === null || head.epoch !== before.epoch) {
      // A new epoch is a store that lost its data (restart without persistence, failover to an
      // empty replica). Its not-before, applied by readHead, revokes every token issued before
      // the loss, so nothing needs writing back; start over from what it holds.
      await this.hydrate(head, before === null ? 'startup' : 'store-reset');
      hydrated = true;
    } else if (
      head.seq < before.seq ||
      (head.seq === before.seq && head.logId !== before.logId) ||
      (head.seq > before.seq && isLogIdBefore(head.logId, before.logId)) ||
      (ownAhead !== null && ownAhead.epoch === head.epoch && head.seq < ownAhead.seq)
    ) {
      // Same data set, another history: a failover promoted a replica that missed our last
      // events (and may have logged others under the same numbers).
      head = await this.recoverDivergence();
      hydrated = true;
    } else if (head.seq > (this.position as LogPosition).seq) {
      const applied = await this.catchUp(head);
      if (applied === 'diverged') {
        head = await this.recoverDivergence();
        hydrated = true;
      } else if (applied === 'trimmed') {
        head = await this.readHead();
        await this.hydrate(head, 'log-trimmed');
        hydrated = true;
      } else if (cause !== 'anti-entropy' || applied > 0) {
        this.observer.onResync?.(cause, applied);
      }
    } else if (cause !== 'anti-entropy') {
      this.observer.onResync?.(cause, 0);
    }

    this.storeReachable = true;
    // Everything logged before `startedAt` is now applied; with a live subscription over the
    // whole round nothing after it can have been missed either.
    this.lastConfirmedMs = Math.max(this.lastConfirmedMs, startedAt);
    // A round that (re)hydrated still owes the catch-up from its head; the next round does it.
    if (hydrated) return;
    if (wasSubscribed && this.subscribed && generation === this.subscriptionGeneration) {
      this.caughtUpGeneration = generation;
    }
  }

  /** Reads the head and applies its not-before before anything is judged against the cache. */
  private async readHead(): Promise<StoreHead> {
    const head = await this.source.readHead();
    if (this.cache.raiseNotBefore(head.notBeforeMs)) {
      this.observer.onNotBefore?.(head.notBeforeMs, this.position === null ? 'startup' : 'store');
    }
    return head;
  }

  /**
   * Writes back what we hold into a store whose history diverged from ours: logged and
   * published, so that a replica that hydrated from the diverged store hears of it too. When
   * this cache evicted live entries it cannot give back everything, so it fails safe: every
   * token issued up to now (plus the tolerated skew) is revoked store-wide.
   */
  private async recoverDivergence(): Promise<StoreHead> {
    const now = this.clock.now();
    if (!this.cache.isComplete(now)) {
      const notBeforeMs = now + this.clockSkewMs;
      await this.source.raiseNotBefore(notBeforeMs);
      if (this.cache.raiseNotBefore(notBeforeMs)) {
        this.observer.onNotBefore?.(notBeforeMs, 'incomplete-write-back');
      }
    }
    await this.writeBack();
    this.ownAhead = null; // written back with the rest
    const head = await this.readHead();
    await this.hydrate(head, 'store-reset');
    return head;
  }

  private async hydrate(head: LogPosition, cause: ResyncCause): Promise<void> {
    let applied = 0;
    await this.source.snapshot((page) => {
      const now = this.clock.now();
      for (const revocation of page) if (this.cache.add(revocation, now)) applied++;
    });
    this.position = { epoch: head.epoch, seq: head.seq, logId: head.logId };
    this.observer.onPosition?.(this.position);
    if (this.ownAhead?.epoch !== head.epoch) this.ownAhead = null;
    this.observer.onResync?.(cause, applied);
    // Events logged while the snapshot was read are caught up in the next round.
    this.rerun = true;
  }

  /**
   * @returns entries newly applied; `trimmed` when the log no longer reaches our position;
   *   `diverged` when it holds a different history after it
   */
  private async catchUp(head: LogPosition): Promise<number | 'trimmed' | 'diverged'> {
    let applied = 0;
    let position = this.position as LogPosition;
    while (position.seq < head.seq) {
      const entries = await this.source.readAfter(position.logId, this.pageSize);
      const before = position.seq;
      for (const entry of entries) {
        if (entry.kind === 'unreadable') {
          // What can be read of its position is judged like a readable entry's: a number we
          // have, or the next one appended after another entry than ours, is another history.
          if (entry.seq !== undefined && entry.seq <= position.seq) return 'diverged';
          if (entry.seq === position.seq + 1 && !follows(entry, position)) return 'diverged';
          position = this.stepOver(entry, position);
          continue;
        }
        // After our last id, a consistent log holds the next numbers. A number we already have
        // means the store's history diverged from ours (a failover): write back, re-hydrate.
        if (entry.seq <= position.seq) return 'diverged';
        if (entry.seq !== position.seq + 1) return 'trimmed';
        // The next number, but appended after another entry than ours: the same numbers on
        // another history (e.g. ours came from a master that was demoted meanwhile).
        if (!follows(entry, position)) return 'diverged';
        // Under the number of an entry we wrote ourselves, another entry: ours was lost.
        if (this.ownAhead?.seq === entry.seq && this.ownAhead.logId !== entry.logId) {
          return 'diverged';
        }
        if (this.cache.add(entry, this.clock.now())) applied++;
        position = { epoch: position.epoch, seq: entry.seq, logId: entry.logId };
        this.position = position;
        if (this.ownAhead !== null && entry.seq >= this.ownAhead.seq) this.ownAhead = null;
      }
      if (position.seq !== before) this.observer.onPosition?.(position);
      if (entries.length === 0) return 'trimmed';
      if (position.seq === before && entries.length < this.pageSize) return 'trimmed';
    }
    return applied;
  }

  /**
   * Steps over a log entry this build cannot read: counted, never applied, never a reason to
   * stop. One with a readable sequence number fills that number (it was logged by a newer build
   * through the same script); one without is garbage that took no number.
   */
  private stepOver(entry: LogEntry & { kind: 'unreadable' }, position: LogPosition): LogPosition {
    this.observer.onMalformed?.(`unreadable log entry ${entry.logId}: ${entry.reason}`);
    const seq = entry.seq === position.seq + 1 ? entry.seq : position.seq;
    const next = { epoch: position.epoch, seq, logId: entry.logId };
    this.position = next;
    return next;
  }

  private advance(event: RevocationEvent): void {
    const position = this.position;
    if (position === null) return;
    if (event.epoch !== position.epoch) {
      void this.sync('store-reset');
    } else if (this.ownAhead?.seq === event.seq && this.ownAhead.logId !== event.logId) {
      // Another entry under the number of one we wrote: the catch-up confirms a lost write.
      void this.sync('gap');
    } else if (event.seq === position.seq + 1 && follows(event, position)) {
      this.position = { epoch: position.epoch, seq: event.seq, logId: event.logId };
      if (this.ownAhead !== null && event.seq >= this.ownAhead.seq) this.ownAhead = null;
      this.observer.onPosition?.(this.position);
    } else if (
      event.seq > position.seq ||
      (event.seq === position.seq && event.logId !== position.logId)
    ) {
      // A gap, or the next number on another history than ours: the catch-up tells which.
      void this.sync('gap');
    }
  }

  private async writeBack(): Promise<void> {
    // Copy first: checks reorder the LRU while we await, which would derail a live iterator.
    const held = [...this.cache.revocations(this.clock.now())];
    for (let i = 0; i < held.length; i += this.pageSize) {
      await this.source.restore(held.slice(i, i + this.pageSize));
    }
  }

  /** Milliseconds since the last confirmation. */
  stalenessMs(nowMs: Milliseconds = this.clock.now()): Milliseconds {
    return nowMs - this.lastConfirmedMs;
  }
}

/** Whether stream id `a` (`<ms>-<n>`) sorts before `b`; ids only grow within one history. */
function isLogIdBefore(a: string, b: string): boolean {
  const [am = 0n, an = 0n] = a.split('-').map(BigInt);
  const [bm = 0n, bn = 0n] = b.split('-').map(BigInt);
  return am < bm || (am === bm && an < bn);
}

/** Whether the entry was appended right after the position's entry (unknown counts as yes). */
function follows(event: { readonly prevLogId?: string }, position: LogPosition): boolean {
  return event.prevLogId === undefined || event.prevLogId === position.logId;
}
