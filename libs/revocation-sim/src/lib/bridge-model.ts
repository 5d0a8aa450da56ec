import { type Milliseconds } from '@rescind/revocation-core';
import {
  type BridgePlan,
  type BridgePosition,
  type BridgeRead,
  type BridgeWrite,
  EventCodec,
  planBridgeRound,
  planBridgeStart,
  reconnectDelay,
  type RereadCause,
  planReread,
  rereadPosition,
  rereadWrite,
} from '@rescind/revocation-redis';
import { type SimRegion } from './sim-region';

/**
 * A defect a bridge can be switched into, to prove the regions checker fails (README,
 * "Regions"): `save-before-apply` saves a batch's position before applying it (a crash in
 * between loses the batch); `step-over-gap` steps over entries a peer trimmed instead of
 * re-reading its live set; `ignore-peer-epoch` goes on following a peer that lost its data from
 * the old position. Each is applied around the bridge's own rules, never inside them: the first
 * swaps the model's two writes, the others change what the rules are given.
 */
export type BridgeDefect = 'save-before-apply' | 'step-over-gap' | 'ignore-peer-epoch';

/** A link between two regions: a one-way delay, and cuts (a cut holds every call until it times out). */
export interface SimLink {
  readonly delayMs: Milliseconds;
  up: boolean;
  /** Cuts so far: a call that saw another cut than the one it started in failed. */
  cuts: number;
}

/** What a bridge needs of the simulation. */
export interface BridgeHost {
  now(): Milliseconds;
  /** Runs `run` at instant `at`. */
  at(at: Milliseconds, run: () => void): void;
  readonly defects: readonly BridgeDefect[];
  readonly batchSize: number;
  readonly localMs: Milliseconds;
  /** Notes what a bridge did, when tracing. */
  note(line: string): void;
}

/** `XREAD BLOCK` of the bridge (its default `blockMs`). */
const BLOCK_MS = 1000;
/** A call on a cut link fails when the command times out (`blockMs + 2000`). */
const CUT_TIMEOUT_MS = BLOCK_MS + 2000;

/**
 * A model of revocation-redis's `RegionBridge` following one peer region, event by event: each
 * round reads the saved position from the local store, then the peer's epoch, head and log after
 * the position across the link (blocking while there is nothing new), then applies the entries
 * whose origin is the peer and saves the position — or re-reads the peer's whole live set on no
 * position, a new peer epoch, or a trimmed log. What to do at each step is decided by the real
 * bridge's own rules (revocation-redis's `bridge-rules.ts`: `planBridgeStart`,
 * `planBridgeRound`, `rereadWrite`, `rereadPosition`), given what the model stores answer; only
 * the I/O is modelled here, as `RegionBridge`'s `round`, `reread` and `save` do it with ioredis
 * (README, "Limits of the model").
 */
export class BridgeModel {
  /** Running (false once crashed, until started again). */
  alive = false;
  /** Whether the last read found nothing after the position, the position on the peer's head. */
  caughtUp = false;
  /** Blocked in a read of the peer's log with nothing after its position (idle). */
  blocked = false;
  rereads = 0;
  private incarnation = 0;
  private failures = 0;
  /** Calls to the local store left before a crash mid-round (0: none planned). */
  private crashIn = 0;

  constructor(
    private readonly host: BridgeHost,
    readonly local: SimRegion,
    readonly peer: SimRegion,
    private readonly link: SimLink,
  ) {}

  /** Starts (again, after a crash); a running bridge is left alone. */
  start(): void {
    if (this.alive) return;
    this.alive = true;
    this.incarnation++;
    this.failures = 0;
    this.caughtUp = false;
    this.later(0, () => this.round());
  }

  /** SIGKILL right after the `calls`-th next call to the local store has run there. */
  crashAfter(calls: number): void {
    if (this.alive) this.crashIn = calls;
  }

  /** SIGKILL: whatever the bridge was doing stops where it was. */
  crash(): void {
    if (this.alive) this.note('killed');
    this.alive = false;
    this.blocked = false;
    this.crashIn = 0;
    this.incarnation++;
    this.caughtUp = false;
  }

  private note(what: string): void {
    this.host.note(`bridge ${this.local.name}<-${this.peer.name} ${what}`);
  }

  private has(defect: BridgeDefect): boolean {
    return this.host.defects.includes(defect);
  }

  /** Runs `run` after `ms`, unless the bridge crashed meanwhile. */
  private later(ms: Milliseconds, run: () => void): void {
    const incarnation = this.incarnation;
    this.host.at(this.host.now() + ms, () => {
      if (this.alive && this.incarnation === incarnation) run();
    });
  }

  /** A failed exchange: the loop retries after the back-off of every connection. */
  private fail(): void {
    this.failures++;
    this.caughtUp = false;
    this.later(reconnectDelay(this.failures), () => this.round());
  }

  /** A call to this region's store: refused while it is down. */
  private localCall<T>(call: () => T, then: (value: T) => void): void {
    this.later(this.host.localMs, () => {
      if (!this.local.up) return this.fail();
      const value = call();
      if (this.crashIn > 0 && --this.crashIn === 0) return this.crash();
      then(value);
    });
  }

  /**
   * A call to the peer's store across the link, `wait` deciding at the peer whether to hold it
   * (a blocking read) and for how long at most. Fails when the peer is down, and when the link is
   * cut at any moment of it (then only when the command times out).
   */
  private peerCall<T>(call: () => T, then: (value: T) => void, wait?: (value: T) => boolean): void {
    const { delayMs } = this.link;
    const cuts = this.link.cuts;
    const incarnation = this.incarnation;
    const sentAt = this.host.now();
    const timedOut = (): void =>
      this.later(sentAt + CUT_TIMEOUT_MS - this.host.now(), () => this.fail());
    const linkHeld = (): boolean => this.link.up && this.link.cuts === cuts;
    if (!linkHeld()) return timedOut();
    this.later(delayMs, () => {
      if (!linkHeld()) return timedOut();
      if (!this.peer.up) return this.later(delayMs, () => this.fail());
      const value = call();
      const reply = (value: T): void =>
        this.later(delayMs, () => (linkHeld() ? then(value) : timedOut()));
      if (wait?.(value) !== true) return reply(value);
      // Blocked: answered at the next append, or empty when the block ends.
      let answered = false;
      const answer = (): void => {
        // Nothing answers a bridge that crashed since (its connection died with it).
        if (answered || !this.alive || this.incarnation !== incarnation) return;
        answered = true;
        this.blocked = false;
        reply(call());
      };
      this.blocked = true;
      this.peer.onAppend(() => this.host.at(this.host.now(), answer));
      this.host.at(this.host.now() + BLOCK_MS, answer);
    });
  }

  /** One exchange (`RegionBridge.round`). */
  private round(): void {
    this.localCall(
      () => ({ localEpoch: this.local.store.epoch, hash: this.local.positionHash(this.peer.name) }),
      ({ localEpoch, hash }) => {
        const start = planBridgeStart(hash, localEpoch);
        if (start.kind === 'reread') return this.reread(start.cause);
        this.follow(start.localEpoch, start.position);
      },
    );
  }

  private follow(localEpoch: string, position: BridgePosition): void {
    const peerStore = this.peer.store;
    let head: { epoch: string | null; seq: number } | undefined;
    this.peerCall(
      () => {
        // The pipeline's GETs run before its XREAD, which then blocks.
        head ??= { epoch: peerStore.epoch, seq: peerStore.seq };
        return { head, entries: peerStore.xread(position.logId, this.host.batchSize) };
      },
      ({ head: read, entries }) => {
        this.failures = 0;
        const plan = this.plan({
          position,
          peerEpoch: read.epoch,
          peerHeadSeq: read.seq,
          entries,
          batchSize: this.host.batchSize,
          peerName: this.peer.name,
        });
        switch (plan.kind) {
          case 'wait-for-peer':
            this.caughtUp = false;
            return this.later(0, () => this.round());
          case 'reread':
            return this.reread(plan.cause);
          case 'caught-up':
            this.caughtUp = true;
            return this.later(0, () => this.round());
          case 'apply':
            return this.applyThenSave(localEpoch, plan, entries.length);
        }
      },
      ({ entries }) => entries.length === 0 && head !== undefined && head.seq <= position.seq,
    );
  }

  /**
   * The bridge's rule for one read (`planBridgeRound`), with the defects switched on applied
   * around it: `ignore-peer-epoch` gives it the position's data set as the peer's;
   * `step-over-gap`, where it finds the log trimmed, asks it again as if the position were just
   * before the first entry read (or on the head, when none was read). A log's numbers follow
   * each other after its oldest entry (a trim cuts only the oldest), so that steps over exactly
   * the trimmed ones.
   */
  private plan(read: BridgeRead): BridgePlan {
    const given =
      this.has('ignore-peer-epoch') && read.peerEpoch !== null
        ? { ...read, peerEpoch: read.position.epoch }
        : read;
    const plan = planBridgeRound(given);
    if (!this.has('step-over-gap') || plan.kind !== 'reread' || plan.cause !== 'trimmed log') {
      return plan;
    }
    if (given.entries.length === 0) {
      return planBridgeRound({ ...given, peerHeadSeq: given.position.seq });
    }
    const first = given.entries
      .map(([logId, fields]) => EventCodec.logEntry(logId, fields).seq)
      .find((seq) => seq !== undefined);
    if (first === undefined) return plan;
    return planBridgeRound({ ...given, position: { ...given.position, seq: first - 1 } });
  }

  /** A batch's writes, then its position (the other way round with `save-before-apply`). */
  private applyThenSave(
    localEpoch: string,
    plan: Extract<BridgePlan, { kind: 'apply' }>,
    read: number,
  ): void {
    const { toApply, next } = plan;
    const apply = (): void => {
      this.note(`applies ${toApply.length} of ${read} entries up to seq ${next.seq}`);
      for (const write of toApply) this.write(write);
    };
    const save = (): void => {
      const saved = this.local.savePosition(localEpoch, this.peer.name, next);
      this.note(`${saved ? 'saves' : 'is refused'} position ${next.epoch}/${next.seq}`);
    };
    const [first, second] = this.has('save-before-apply') ? [save, apply] : [apply, save];
    this.localCall(first, () =>
      this.localCall(second, () => {
        this.caughtUp = plan.caughtUp;
        this.round();
      }),
    );
  }

  /** A re-read of the peer's whole live set, then its head as the position (`RegionBridge.reread`). */
  private reread(cause: RereadCause): void {
    this.caughtUp = false;
    // A peer without a data set is waited for, never given one (the read of its epoch first).
    this.peerCall(
      () => this.peer.store.epoch,
      (peerEpoch) => {
        if (planReread(peerEpoch) === 'wait-for-peer') {
          this.note('waits for the peer to hold a data set');
          return this.later(BLOCK_MS, () => this.round());
        }
        this.rereadLive(cause);
      },
    );
  }

  private rereadLive(cause: RereadCause): void {
    this.note(`re-reads the peer's live set (${cause})`);
    this.rereads++;
    this.localCall(
      () => this.local.readHead().epoch,
      (localEpoch) =>
        this.peerCall(
          () => this.peer.readHead(),
          (head) =>
            this.peerCall(
              () => this.peer.store.listLive(this.host.now()),
              (live) =>
                this.localCall(
                  () => {
                    for (const { revocation, origin } of live) {
                      const held = origin === undefined ? revocation : { ...revocation, origin };
                      this.write(rereadWrite(held, this.peer.name));
                    }
                  },
                  () =>
                    this.localCall(
                      () =>
                        this.local.savePosition(localEpoch, this.peer.name, rereadPosition(head)),
                      () => this.round(),
                    ),
                ),
            ),
        ),
    );
  }

  /** `RevocationStore.revoke` of a write the rules decided, in this region's store. */
  private write({ revocation, audit }: BridgeWrite): void {
    this.local.revoke(revocation, audit.origin ?? this.peer.name, audit.actor ?? 'bridge');
  }
}
