import { type Milliseconds, RevocationVerdict } from '@rescind/revocation-core';
import {
  type CheckContext,
  Checker,
  type KnownFinding,
  type SimRevocation,
  type SimToken,
} from './checker';
import { EventQueue, type EventOwner } from './event-queue';
import { ModelStore, RedisReplyError, type RevokeReply } from './model-store';
import { type BusSubscriber, type DrawKind, type Network } from './network';
import { mix, unitOf } from './prng';
import { Replica, type CheckOutcome } from './replica';
import { type Action, formatAction, type Schedule } from './schedule';
import {
  EPOCH_START_MS,
  failoverBoundMs,
  fanOutBoundMs,
  quietPeriodMs,
  type SimConfig,
  warmUpMs,
} from './sim-config';

/** What one run of a schedule found. */
export interface RunResult {
  readonly violations: Checker['violations'];
  /** Violations of known cause (reported findings awaiting a fix). */
  readonly known: Checker['known'];
  /** Steps executed when the first violation was seen (all of them when none was). */
  readonly stepsRun: number;
}

/**
 * Microtask turns after each event: every chain of awaits the core starts finishes within 8 (a
 * spec checks that 200 turns change no run), so 10 leave a margin.
 */
export const SETTLE_TURNS = 10;

/**
 * The simulated world: one global clock and event queue, the model store, the bus, the worker,
 * and the replicas. It runs a schedule step by step, lets every event that falls due in between
 * happen in order (draining the promise jobs each one starts before the next), and after every
 * step asks the checker to judge every check a probe makes.
 */
export class World implements Network {
  now: Milliseconds = EPOCH_START_MS;
  storeUp = true;
  faultsStopped = false;
  readonly store: ModelStore;
  readonly checker: Checker;
  readonly replicas: Replica[] = [];
  private readonly queue = new EventQueue();
  private readonly subscribers = new Set<BusSubscriber>();
  private storeClockOffset: Milliseconds;
  private order = 0;
  private storeUpAt: Milliseconds = -Infinity;
  private storeGeneration = 0;
  private badMessages = 0;
  private inFlightCalls = 0;
  /** Ids of log entries failovers lost: an entry logged under one again is finding G. */
  private readonly lostLogIds = new Set<string>();
  private lastAckAt: Milliseconds = -Infinity;
  private lastLostAt: Milliseconds = -Infinity;
  /** Lines of the trace, when the run is traced. */
  readonly traceLines: string[] = [];
  tracing = false;
  /** Logins reach replicas that are not ready too (off: only through the load balancer). */
  loginsAnywhere = false;
  /** A hash of every event run (instant and creation order): equal runs have equal prints. */
  fingerprint = 0;
  /**
   * Sessions whose end the store has run: refreshing one fails from then on (the session store
   * checks it in the same script). Kept apart from the model store, which models only the
   * revocations: see README.md, "What is modelled".
   */
  private readonly endedSessions = new Set<string>();

  /**
   * @param settleTurns microtask turns after each event (a larger number checks that the
   *   default lets every chain of awaits finish: the fingerprint must not change)
   * @param judged known findings reported as violations all the same
   */
  constructor(
    readonly seed: number,
    readonly config: SimConfig,
    private readonly settleTurns = SETTLE_TURNS,
    judged: readonly KnownFinding[] = [],
  ) {
    this.storeClockOffset = config.storeClockOffsetMs;
    this.store = new ModelStore(
      () => this.now + this.storeClockOffset,
      (message) => this.publish(message),
    );
    this.checker = new Checker(
      { fanOutMs: fanOutBoundMs(config), failoverMs: failoverBoundMs(config) },
      judged,
    );
    // A data set created well before the run: its not-before (and the second readiness waits
    // past it) lies behind every replica's clock.
    this.store.readHead(this.now - 2000 - config.clockSkewMs);
    config.replicas.forEach((replica, slot) => {
      this.replicas.push(new Replica(this, slot, 0, replica));
    });
  }

  /** @inheritdoc */
  at(at: Milliseconds, owner: EventOwner | null, run: () => void, settle = true): void {
    this.queue.add(at, owner, run, settle);
  }

  /** @inheritdoc */
  draw(slot: number, incarnation: number, kind: DrawKind, n: number): number {
    return unitOf(mix(this.seed, slot, incarnation, kind, n));
  }

  /** @inheritdoc */
  trace(line: string): void {
    if (this.tracing)
      this.traceLines.push(`${String(this.now - EPOCH_START_MS).padStart(6)} ${line}`);
  }

  /** @inheritdoc */
  subscribe(subscriber: BusSubscriber): void {
    this.subscribers.add(subscriber);
  }

  /** @inheritdoc */
  unsubscribe(subscriber: BusSubscriber): void {
    this.subscribers.delete(subscriber);
  }

  /** Runs a schedule to its end, then the quiet period and the liveness checks. */
  async run(schedule: Schedule, stopAtFirstViolation = true): Promise<RunResult> {
    for (const replica of this.replicas) replica.start();
    await this.advanceTo(this.now + warmUpMs(this.config));
    let stepsRun = 0;
    for (const step of schedule.steps) {
      await this.advanceTo(this.now + step.dt);
      if (this.tracing) this.trace(`STEP ${formatAction(step.a)}   [${this.describeReplicas()}]`);
      this.act(step.a);
      await this.settle();
      stepsRun++;
      this.probe();
      if (stopAtFirstViolation && this.checker.violations.length > 0) {
        return { violations: this.checker.violations, known: this.checker.known, stepsRun };
      }
    }
    await this.quiet();
    return { violations: this.checker.violations, known: this.checker.known, stepsRun };
  }

  /** Processes every event due up to `until`, in order. */
  async advanceTo(until: Milliseconds): Promise<void> {
    for (;;) {
      if (this.queue.peekTime() > until) break;
      const event = this.queue.pop();
      if (event === undefined) break;
      this.now = event.at;
      const owner = event.owner;
      if (owner !== null) {
        if (!owner.alive) continue;
        if (owner.paused) {
          owner.defer(event);
          continue;
        }
      }
      this.fingerprint = mix(this.fingerprint, event.at - EPOCH_START_MS, event.order);
      event.run();
      if (event.settle) await this.settle();
    }
    this.now = until;
  }

  private async settle(): Promise<void> {
    for (let i = 0; i < this.settleTurns; i++) await null;
  }

  /** Each replica's state in a few words, for traces. */
  describeReplicas(): string {
    return this.replicas
      .map((r) => {
        const p = r.sync.state.position;
        const state = !r.alive ? 'down' : r.paused ? 'paused' : r.isReady() ? 'ready' : 'unready';
        return `r${r.slot}#${r.incarnation} ${state} @${p === null ? '-' : `${p.epoch}/${p.seq}`}`;
      })
      .join(', ');
  }

  private publish(message: string): void {
    for (const subscriber of this.subscribers) subscriber.enqueue(message);
  }

  private act(action: Action): void {
    const replica = 'r' in action ? this.replicas[action.r % this.replicas.length] : undefined;
    const running = replica !== undefined && replica.alive && !replica.paused;
    switch (action.k) {
      case 'login':
        // Through the load balancer, which sends requests only to ready replicas; see
        // README.md of this library for what logins on replicas not ready can break.
        if (running && (this.loginsAnywhere || replica.isReady())) {
          this.login(replica, `u${action.u}`, action.frac);
        }
        return;
      case 'logout':
      case 'logoutAll':
      case 'endSession':
        if (running) this.revoke(replica, action.k, action.t);
        return;
      case 'refresh':
        if (running && (this.loginsAnywhere || replica.isReady())) this.refresh(replica, action.t);
        return;
      case 'check':
        if (running) this.present(replica, action.t);
        return;
      case 'crash':
        replica?.crash();
        return;
      case 'start':
        if (replica !== undefined && !replica.alive) this.restart(replica);
        return;
      case 'pause':
        if (running) replica.pause();
        return;
      case 'resume':
        if (replica?.alive === true && replica.paused) replica.resume();
        return;
      case 'killSub':
        if (replica?.alive === true) replica.killSubscription();
        return;
      case 'killConn':
        if (replica?.alive === true) replica.killCommandConnection();
        return;
      case 'storeDown':
        this.storeOutage(action.ms, () => undefined);
        return;
      case 'storeRestart':
        this.storeOutage(action.ms, () => this.store.restart(action.keep));
        return;
      case 'failover':
        this.failover(action.lose, action.offset);
        return;
      case 'tidy':
        if (this.storeUp) this.store.tidy(this.now + this.config.workerClockOffsetMs, 500);
        return;
      case 'trim':
        if (this.storeUp) this.store.trimOldest(action.n);
        return;
      case 'badEntry':
        if (this.storeUp) this.store.appendUnreadable(action.newer);
        return;
      case 'badMessage':
        if (this.storeUp) this.publish(this.badMessages++ % 2 === 0 ? '{"data":{"v":1}' : '"x"');
        return;
    }
  }

  private login(replica: Replica, sub: string, fractional: boolean): void {
    const index = this.checker.tokens.length;
    const frac = !fractional ? 0 : index % 2 ? 0.5005 : 0.5;
    // Every login starts a session of its own.
    const claims = replica.issue(sub, `j${index}`, `s${index}`, frac);
    this.checker.tokenIssued({ ...claims, index, issuedOrder: this.order++ });
  }

  /**
   * A refresh: a new token of the session of token `t`, issued only while the store can be asked
   * and has not run the session's end (the refresh and the end are atomic in the store).
   */
  private refresh(replica: Replica, t: number): void {
    const token = this.tokenAt(t);
    if (token === undefined || !this.storeUp || !replica.canReachStore()) return;
    if (this.endedSessions.has(token.sid)) return;
    const index = this.checker.tokens.length;
    const claims = replica.issue(token.sub, `j${index}`, token.sid, 0);
    this.checker.tokenIssued({ ...claims, index, issuedOrder: this.order++ });
  }

  private tokenAt(t: number): SimToken | undefined {
    const tokens = this.checker.tokens;
    return tokens.length === 0 ? undefined : tokens[t % tokens.length];
  }

  private revoke(replica: Replica, kind: 'logout' | 'logoutAll' | 'endSession', t: number): void {
    const token = this.tokenAt(t);
    if (token === undefined) return;
    const ref = { slot: replica.slot, incarnation: replica.incarnation };
    const revocation =
      kind === 'logout'
        ? this.checker.invoked('token', token.jti, ref, this.order++)
        : kind === 'endSession'
          ? this.checker.invoked('session', token.sid, ref, this.order++)
          : this.checker.invoked('user', token.sub, ref, this.order++);
    const onRun = (reply: RevokeReply): void => {
      if (kind === 'endSession') this.endedSessions.add(token.sid);
      if (reply === null) return;
      revocation.loggedAt = this.now;
      if (this.lostLogIds.has(reply[2])) revocation.reusedLogId = true;
    };
    const call =
      kind === 'logout'
        ? replica.revokeToken(token, onRun)
        : kind === 'endSession'
          ? replica.revokeSession(token.sid, onRun)
          : replica.revokeAllForUser(token.sub, onRun);
    this.inFlightCalls++;
    call
      .then(
        () => {
          this.checker.acknowledged(revocation, this.now, this.order++);
          this.lastAckAt = this.now;
        },
        (error: unknown) => {
          if (error instanceof RedisReplyError) this.checker.refused(revocation, this.now, error);
        },
      )
      .finally(() => this.inFlightCalls--);
  }

  private present(replica: Replica, t: number): void {
    const token = this.tokenAt(t);
    if (token === undefined || !replica.verifies(token)) return;
    const ctx = this.contextOf(replica);
    const judge = (outcome: CheckOutcome): void => {
      if (outcome === 'accepted') this.checker.accepted(ctx, token);
    };
    const outcome = replica.check(token);
    if (typeof outcome === 'string') judge(outcome);
    else void outcome.then(judge);
  }

  private contextOf(replica: Replica): CheckContext {
    return {
      replica: { slot: replica.slot, incarnation: replica.incarnation },
      at: this.now,
      order: this.order++,
      ready: replica.isReady(),
      resumedAt: replica.resumedAt,
      subscribedAt: replica.subscribedAt,
    };
  }

  private restart(replica: Replica): void {
    const next = new Replica(this, replica.slot, replica.incarnation + 1, replica.config);
    this.replicas[replica.slot] = next;
    next.start();
  }

  /** Redis unreachable for `ms`; `atDown` is what the outage does to its data. */
  private storeOutage(ms: Milliseconds, atDown: () => void): void {
    if (!this.storeUp) return;
    this.storeUp = false;
    atDown();
    this.dropAllConnections();
    const generation = ++this.storeGeneration;
    this.storeUpAt = this.now + ms;
    this.at(this.storeUpAt, null, () => {
      if (this.storeGeneration === generation) this.storeUp = true;
    });
  }

  private dropAllConnections(): void {
    this.subscribers.clear();
    for (const replica of this.replicas) if (replica.alive) replica.disconnect();
  }

  /**
   * A failover: the promoted replica lacks the last `lose` appends (and all that followed them)
   * and has its own clock; every client reconnects to it. Revocations the store covered before
   * and no longer covers are marked lost from now.
   */
  private failover(lose: number, offset: Milliseconds): void {
    if (!this.storeUp) return;
    const before = this.coverage();
    const loss = this.store.failover(lose);
    this.storeClockOffset += offset;
    const after = this.coverage();
    before.forEach((covered, i) => {
      if (covered.some((yes, j) => yes && !(after[i] as boolean[])[j])) {
        const revocation = this.checker.revocations[i] as SimRevocation;
        revocation.lostAt = this.now;
        revocation.unnoticedLoss = (this.holders(revocation) ?? []).every(
          (replica) => !this.diverged(replica),
        );
        this.lastLostAt = this.now;
      }
    });
    for (const id of loss.lostIds) this.lostLogIds.add(id);
    this.dropAllConnections();
  }

  /** For every revocation, whether the store revokes each token it covers. */
  private coverage(): boolean[][] {
    const { tokens, revocations } = this.checker;
    return revocations.map((revocation) =>
      tokens
        .filter((token) => this.checker.covers(revocation, token))
        .map((token) => this.store.isRevoked(token)),
    );
  }

  /**
   * After every step: every running replica is asked about every token an acceptance of which
   * the checker would judge a violation now; and revocations lost in a failover that no running
   * replica remembers any more are set aside (the documented limit).
   */
  private probe(): void {
    this.forgetLost();
    const tokens = this.checker.tokens;
    for (const replica of this.replicas) {
      if (!replica.alive || replica.paused) continue;
      let ctx: CheckContext | undefined;
      for (const token of tokens) {
        if (!this.checker.mayCover(token) || !replica.verifies(token)) continue;
        ctx ??= this.contextOf(replica);
        if (this.checker.ruleAt(ctx, token) === undefined) continue;
        if (replica.checkNow(token) === 'accepted') this.checker.accepted(ctx, token);
      }
    }
  }

  /**
   * A revocation a failover dropped survives only in caches: while none of the replicas that
   * remember it can reach the store (paused, or reconnecting) its bound waits, and starts when
   * one can write it back; once no live replica remembers it, it is set aside as the
   * documented limit.
   */
  private forgetLost(): void {
    for (const revocation of this.checker.revocations) {
      if (revocation.lostAt === undefined || revocation.forgotten) continue;
      const remembering = this.holders(revocation);
      if (remembering === null) continue;
      if (remembering.length === 0) revocation.forgotten = true;
      // Only replicas that will never notice the divergence still hold it (finding D).
      if (remembering.every((replica) => !this.diverged(replica))) revocation.unnoticedLoss = true;
      if (remembering.length === 0) continue;
      if (remembering.every((replica) => !replica.canReachStore())) {
        revocation.lostAt = Infinity;
      } else if (revocation.lostAt === Infinity) {
        // One that remembers can write it back again: the failover bound starts now.
        revocation.lostAt = this.now;
        this.lastLostAt = this.now;
      }
    }
  }

  /** Whether the replica's position is off the store's current history (it will notice). */
  private diverged(replica: Replica): boolean {
    const position = replica.sync.state.position;
    return position !== null && !this.store.onHistory(position.seq, position.logId);
  }

  /**
   * The live replicas whose cache still rejects every token of `revocation` that the store no
   * longer revokes (or cannot vouch for them); null when the store revokes them all.
   */
  private holders(revocation: SimRevocation): Replica[] | null {
    const tokens = this.checker.tokens.filter(
      (token) => this.checker.covers(revocation, token) && !this.store.isRevoked(token),
    );
    if (tokens.length === 0) return null;
    // A replica remembers it when its cache rejects every such token, or when it cannot vouch
    // for them and will notice the divergence (then it fails safe with a store-wide not-before).
    return this.replicas.filter((replica) => {
      if (!replica.alive) return false;
      const verdicts = tokens.map((token) => replica.cache.check(token, replica.now()));
      if (verdicts.every((v) => v === RevocationVerdict.Revoked)) return true;
      return verdicts.every((v) => v !== RevocationVerdict.Accepted) && this.diverged(replica);
    });
  }

  /** Faults stop: the store comes back, paused replicas resume; then liveness is judged. */
  private async quiet(): Promise<void> {
    this.faultsStopped = true;
    if (!this.storeUp) {
      this.storeGeneration++;
      this.storeUp = true;
    }
    for (const replica of this.replicas) if (replica.alive && replica.paused) replica.resume();
    this.forgetLost();
    // Until every running replica is ready and every revocation has had time to reach them all,
    // at most the quiet period.
    const end = this.now + quietPeriodMs(this.config);
    const { fanOutMs, failoverMs } = this.checker.bounds;
    const step = 25;
    for (;;) {
      await this.advanceTo(Math.min(end, this.now + step));
      if (this.now >= end) break;
      const earliest = Math.max(this.lastAckAt + fanOutMs, this.lastLostAt + failoverMs);
      if (this.now < earliest || this.inFlightCalls > 0) continue;
      if (this.replicas.every((r) => !r.alive || r.isReady())) break;
    }
    this.forgetLost();
    for (const replica of this.replicas) {
      if (!replica.alive) continue;
      const ref = { slot: replica.slot, incarnation: replica.incarnation };
      if (!replica.isReady()) {
        const state = replica.sync.state;
        this.checker.notReadyAfterQuiet(
          ref,
          this.now,
          `hydrated ${state.hydrated}, subscribed ${state.subscribed}, caught up ` +
            `${state.caughtUp}, store reachable ${state.storeReachable}, stale ` +
            `${replica.sync.isStale(replica.now())}`,
        );
      }
      for (const token of this.checker.tokens) {
        if (!replica.verifies(token)) continue;
        if (this.checker.coveringRevocations(token).length === 0) continue;
        if (replica.checkNow(token) === 'accepted') {
          this.checker.acceptedAfterQuiet(ref, this.now, token);
        }
      }
    }
  }
}
