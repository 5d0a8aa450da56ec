import {
  type CheckedClaims,
  type Clock,
  issuedAtMs,
  type Milliseconds,
  type Revocation,
  RevocationCache,
  type RevocationLimits,
  RevocationSynchronizer,
  RevocationVerdict,
  sessionRevocation,
  type SyncObserver,
  tokenRevocation,
  userRevocation,
} from '@rescind/revocation-core';
import { EventCodec } from '@rescind/revocation-redis';
import { type EventOwner, type SimEvent } from './event-queue';
import { type RevokeReply } from './model-store';
import { type Network } from './network';
import { SimConnection } from './sim-connection';
import { type ReplicaConfig } from './sim-config';
import { StoreClient } from './store-client';
import { Subscription } from './subscription';

/** What the guard made of a presented token. */
export type CheckOutcome =
  /** Let through. */
  | 'accepted'
  /** Let through because the store could not be asked and `FAIL_MODE=open` (by design). */
  | 'accepted-open'
  /** 401, revoked. */
  | 'revoked'
  /** 503, `FAIL_MODE=closed` and not in sync, or the store could not be asked. */
  | 'unavailable';

/** The claims a simulated token carries (every one has a session). */
export interface TokenClaims extends CheckedClaims {
  readonly sid: string;
  readonly iat: number;
  readonly exp: number;
}

/**
 * One replica process: its RevocationCache and RevocationSynchronizer from the core, wired as
 * revocation-nest wires them (the anti-entropy interval of RevocationSyncService, the
 * subscription callbacks of RevocationEventsServer, the write path of RevocationService, the
 * guard of LocalRevocationChecker and StoreRevocationLookup, TokenService's issue and verify
 * rules), on a clock `clockOffsetMs` off the global one.
 */
export class Replica implements EventOwner {
  alive = true;
  paused = false;
  /** When it last resumed from a pause (or started). */
  resumedAt: Milliseconds;
  /** When its current subscription was confirmed; Infinity while it has none. */
  subscribedAt: Milliseconds = Infinity;
  readonly cache: RevocationCache;
  readonly sync: RevocationSynchronizer;
  readonly store: StoreClient;
  private readonly command: SimConnection;
  private readonly subscription: Subscription;
  private readonly deferred: SimEvent[] = [];
  private ticking = false;
  private readonly limits: RevocationLimits;
  private readonly clock: Clock = { now: () => this.now() };

  constructor(
    private readonly net: Network,
    readonly slot: number,
    readonly incarnation: number,
    readonly config: ReplicaConfig,
  ) {
    const sim = net.config;
    this.resumedAt = net.now;
    this.limits = {
      accessTokenTtlMs: sim.accessTokenTtlSeconds * 1000,
      clockSkewMs: sim.clockSkewMs,
    };
    this.cache = new RevocationCache({ maxEntries: config.maxEntries });
    this.command = new SimConnection(net, this, 1, () => this.onCommandReady());
    this.store = new StoreClient(this.command, net.store, this.clock, sim.clockSkewMs);
    this.sync = new RevocationSynchronizer(this.cache, this.store, {
      maxStalenessMs: sim.maxStalenessMs,
      catchUpPageSize: sim.catchUpPageSize,
      clockSkewMs: sim.clockSkewMs,
      clock: this.clock,
      schedule: (callback, delayMs) => net.at(net.now + delayMs, this, callback),
      observer: net.tracing ? this.tracer() : {},
    });
    this.subscription = new Subscription(net, this, {
      onMessage: (message) => this.onChannelMessage(message),
      onSubscribed: () => {
        this.subscribedAt = net.now;
        void this.sync.onSubscribed();
      },
      onLost: () => {
        this.subscribedAt = Infinity;
        this.sync.onSubscriptionLost();
      },
    });
  }

  private tracer(): SyncObserver {
    const say = (line: string): void => this.net.trace(`r${this.slot}#${this.incarnation} ${line}`);
    return {
      onApplied: (event) => say(`applied live ${event.kind} ${event.id} seq ${event.seq}`),
      onMalformed: (reason) => say(`malformed: ${reason}`),
      onResync: (cause, applied) => say(`resync ${cause} applied ${applied}`),
      onNotBefore: (notBeforeMs, cause) => say(`not-before ${notBeforeMs} (${cause})`),
      onSyncError: (error) => say(`sync error ${String(error)}`),
    };
  }

  /** This process's clock. */
  now(): Milliseconds {
    return this.net.now + this.config.clockOffsetMs;
  }

  /** Starts the process: command connection (then the interval) and the subscription. */
  start(): void {
    this.command.connect();
    this.subscription.start();
  }

  /** The process dies: nothing of it runs again, its connections close. */
  crash(): void {
    this.alive = false;
    this.sync.stop();
    this.command.kill(false);
    this.subscription.kill(false);
  }

  /** Stops running (SIGSTOP): its events wait. */
  pause(): void {
    this.paused = true;
  }

  /** Runs again (SIGCONT): what waited runs now, in order. */
  resume(): void {
    this.paused = false;
    this.resumedAt = this.net.now;
    const waiting = this.deferred.splice(0);
    for (const event of waiting) this.net.at(this.net.now, this, event.run, event.settle);
  }

  /** @inheritdoc */
  defer(event: SimEvent): void {
    this.deferred.push(event);
  }

  /** Kills the command connection (a `CLIENT KILL`, a proxy reset): in-flight replies are lost. */
  killCommandConnection(): void {
    this.command.kill(true);
  }

  /** Kills the subscription connection; it reconnects and subscribes again. */
  killSubscription(): void {
    this.subscription.kill(true);
  }

  /** The store went away: both connections drop and keep reconnecting. */
  disconnect(): void {
    this.command.kill(true);
    this.subscription.kill(true);
  }

  /** Whether it runs and its command connection is up (it can write to the store). */
  canReachStore(): boolean {
    return this.alive && !this.paused && this.command.connected;
  }

  /** Ready as `/health/ready` reports it. */
  isReady(): boolean {
    return this.sync.isReady(this.now());
  }

  /**
   * TokenService.sign: an `iat` to the millisecond, this clock's (never dated ahead; a token
   * signed while the store-wide not-before is ahead of the clock is born revoked). `expFraction` imitates another signer: a
   * sub-millisecond `iat` and an `exp` that fraction past a whole second (RFC 7519 §2); 0.5005
   * is no whole number of milliseconds either.
   */
  issue(sub: string, jti: string, sid: string, expFraction: 0 | 0.5 | 0.5005): TokenClaims {
    const fractional = expFraction !== 0;
    const nowMs = this.now();
    const ttl = this.net.config.accessTokenTtlSeconds;
    const iat = fractional ? (nowMs + 0.4) / 1000 : nowMs / 1000;
    const exp = Math.floor(iat) + ttl + expFraction;
    return { jti, sub, sid, iat, exp, iatMs: issuedAtMs(iat) };
  }

  /** TokenService.verify's time checks: not expired, not issued beyond the skew, not too long. */
  verifies(token: TokenClaims): boolean {
    const now = this.now();
    const sim = this.net.config;
    return (
      Math.floor(now / 1000) < token.exp &&
      token.iat * 1000 <= now + sim.clockSkewMs &&
      token.exp - token.iat <= sim.accessTokenTtlSeconds + 1
    );
  }

  /** RevocationService.revokeToken for `claims.exp * 1000`. */
  revokeToken(token: TokenClaims, onRun: (reply: RevokeReply) => void): Promise<void> {
    return this.record(tokenRevocation(token.jti, token.exp, this.now(), this.limits), onRun);
  }

  /** RevocationService.revokeSession: every token of the session, whenever issued. */
  revokeSession(sid: string, onRun: (reply: RevokeReply) => void): Promise<void> {
    return this.record(sessionRevocation(sid, this.now(), this.limits), onRun);
  }

  /** RevocationService.revokeAllForUser: returns once this clock has passed the cut-off. */
  async revokeAllForUser(sub: string, onRun: (reply: RevokeReply) => void): Promise<void> {
    const revocation = userRevocation(sub, this.now(), this.limits, this.cache.notBeforeMs);
    await this.record(revocation, onRun);
    const passAt = Math.floor(revocation.cutoffMs - this.config.clockOffsetMs) + 1;
    if (passAt > this.net.now) {
      await new Promise<void>((resolve) => this.net.at(passAt, this, resolve));
    }
  }

  /**
   * LocalRevocationChecker.check: 503 when stale and closed (or never hydrated), the cache's
   * verdict, and for a miss the cache cannot vouch for, the store (StoreRevocationLookup).
   */
  check(token: TokenClaims): CheckOutcome | Promise<CheckOutcome> {
    const verdict = this.localVerdict(token);
    if (verdict !== RevocationVerdict.Unknown) return outcomeOf(verdict);
    return this.store.isRevoked(token).then(
      (revoked): CheckOutcome => (revoked ? 'revoked' : 'accepted'),
      (): CheckOutcome => this.storeUnanswered(),
    );
  }

  /**
   * The same check answered at once, the store lookup (if any) against the store as it is now:
   * what the checker probes with after every step.
   */
  checkNow(token: TokenClaims): CheckOutcome {
    const verdict = this.localVerdict(token);
    if (verdict !== RevocationVerdict.Unknown) return outcomeOf(verdict);
    if (!this.net.storeUp || !this.command.connected) return this.storeUnanswered();
    return this.net.store.isRevoked(token) ? 'revoked' : 'accepted';
  }

  private localVerdict(token: TokenClaims): RevocationVerdict | 'unavailable' {
    const now = this.now();
    if (this.sync.isStale(now) && (this.config.failMode === 'closed' || !this.sync.hydrated)) {
      return 'unavailable';
    }
    return this.cache.check(token, now);
  }

  private storeUnanswered(): CheckOutcome {
    return this.config.failMode === 'closed' ? 'unavailable' : 'accepted-open';
  }

  /** RevocationService.record: the store first, then this cache, before the call returns. */
  private async record(revocation: Revocation, onRun: (reply: RevokeReply) => void): Promise<void> {
    const event = await this.store.revoke(revocation, {}, onRun);
    if (event === null) this.cache.add(revocation, this.now());
    else this.sync.applyLocal(event);
  }

  /** RevocationEventsServer: the message decoded by the event codec, validated by the core. */
  private onChannelMessage(raw: string): void {
    if (this.net.tracing)
      this.net.trace(`r${this.slot}#${this.incarnation} message ${raw.slice(0, 120)}`);
    this.sync.onMessage(EventCodec.decodeMessage(raw));
  }

  /** RevocationSyncService: on the first `ready`, one tick and then one every interval. */
  private onCommandReady(): void {
    if (this.ticking) return;
    this.ticking = true;
    const tick = (): void => {
      void this.sync.tick();
      this.net.at(this.net.now + this.net.config.syncIntervalMs, this, tick);
    };
    tick();
  }
}

function outcomeOf(verdict: RevocationVerdict | 'unavailable'): CheckOutcome {
  if (verdict === 'unavailable') return 'unavailable';
  return verdict === RevocationVerdict.Revoked ? 'revoked' : 'accepted';
}
