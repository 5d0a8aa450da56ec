import { type CheckedClaims, type Milliseconds, type Revocation } from '@rescind/revocation-core';
import { BridgeModel, type BridgeDefect, type SimLink } from './bridge-model';
import { EventQueue } from './event-queue';
import { mix } from './prng';
import {
  formatRegionAction,
  type RegionAction,
  type RegionConfig,
  type RegionSchedule,
} from './region-schedule';
import { SimRegion } from './sim-region';

/** The promises the regions checker judges. */
export type RegionViolationKind =
  /** A region's store accepted a token revoked (and acknowledged) in that region. */
  | 'accepted-in-own-region'
  /** After quiescence, a region's store accepted a token revoked anywhere. */
  | 'not-converged'
  /** The bridges did not all catch up within the quiet period. */
  | 'no-quiescence';

/** A broken promise. */
export interface RegionViolation {
  readonly kind: RegionViolationKind;
  readonly at: Milliseconds;
  readonly detail: string;
}

interface SimToken extends CheckedClaims {
  readonly expMs: Milliseconds;
}

interface Acknowledged {
  readonly revocation: Revocation;
  readonly region: number;
  /** Gone from every store before another region held it (a store lost its data first). */
  lost: boolean;
}

/** Simulated time after the last step within which the bridges must have caught up. */
export const REGION_QUIET_MS = 60_000;

/** The instant simulated time starts at (a plausible wall clock: stream ids run on it). */
const START_MS = 1_700_000_000_000;

/**
 * Regions, each a store (`SimRegion`), links between every pair, and a bridge per (region,
 * peer) (`BridgeModel`), run through a schedule of logins, revocations and faults; then every
 * link heals, every store and bridge is back, and the checker judges convergence.
 */
export class RegionWorld {
  readonly regions: SimRegion[];
  readonly links: SimLink[] = [];
  readonly bridges: BridgeModel[] = [];
  readonly violations: RegionViolation[] = [];
  /** Hash of every event run: two runs of one schedule have the same. */
  fingerprint = 0;
  /** From the end of the faults to the moment every bridge had caught up. */
  convergenceMs: Milliseconds | undefined;
  tracing = false;
  readonly traceLines: string[] = [];
  private nowMs: Milliseconds = START_MS;
  private readonly queue = new EventQueue();
  private readonly tokens: SimToken[] = [];
  private readonly acknowledged: Acknowledged[] = [];

  constructor(
    private readonly config: RegionConfig,
    readonly defects: readonly BridgeDefect[] = [],
  ) {
    const now = (): Milliseconds => this.nowMs;
    this.regions = Array.from(
      { length: config.regions },
      (_, i) => new SimRegion(`region${i}`, now, config.clockSkewMs),
    );
    for (const delayMs of config.linkDelayMs) this.links.push({ delayMs, up: true, cuts: 0 });
    for (const local of this.regions) {
      for (const peer of this.regions) {
        if (local === peer) continue;
        this.bridges.push(new BridgeModel(this, local, peer, this.linkOf(local, peer)));
      }
    }
  }

  get batchSize(): number {
    return this.config.batchSize;
  }

  get localMs(): Milliseconds {
    return this.config.localMs;
  }

  now(): Milliseconds {
    return this.nowMs;
  }

  at(at: Milliseconds, run: () => void): void {
    this.queue.add(at, null, run, false);
  }

  /** Runs the schedule, then the quiet period, and returns what the checker saw. */
  run(schedule: RegionSchedule, stopAtFirstViolation = true): readonly RegionViolation[] {
    // Each region's replicas start with it: their first read of the head creates its data set.
    for (const region of this.regions) region.replicasReadHead();
    for (const bridge of this.bridges) bridge.start();
    for (const step of schedule.steps) {
      this.advanceTo(this.nowMs + step.dt);
      if (this.tracing) this.trace(`STEP ${formatRegionAction(step.a)}`);
      this.act(step.a);
      this.checkOwnRegions();
      if (stopAtFirstViolation && this.violations.length > 0) return this.violations;
    }
    this.quiet();
    return this.violations;
  }

  private linkOf(a: SimRegion, b: SimRegion): SimLink {
    const [i, j] = [this.regions.indexOf(a), this.regions.indexOf(b)].sort((x, y) => x - y);
    // Pairs in order: (0,1), (0,2), (1,2).
    const index = (i as number) === 0 ? (j as number) - 1 : 2;
    return this.links[index % this.links.length] as SimLink;
  }

  private advanceTo(until: Milliseconds): void {
    for (;;) {
      if (this.queue.peekTime() > until) break;
      const event = this.queue.pop();
      if (event === undefined) break;
      this.nowMs = event.at;
      this.fingerprint = mix(this.fingerprint, event.at - START_MS, event.order);
      event.run();
    }
    this.nowMs = until;
  }

  note(line: string): void {
    if (this.tracing) this.trace(`  ${line}`);
  }

  private trace(line: string): void {
    this.traceLines.push(`t=${String(this.nowMs - START_MS).padStart(6)} ${line}`);
  }

  private region(r: number): SimRegion {
    return this.regions[r % this.regions.length] as SimRegion;
  }

  private act(a: RegionAction): void {
    switch (a.k) {
      case 'login': {
        const index = this.tokens.length;
        this.tokens.push({
          jti: `j${index}`,
          sub: `u${a.u}`,
          iatMs: this.nowMs,
          expMs: this.nowMs + this.config.tokenTtlMs,
        });
        return;
      }
      case 'logout':
      case 'logoutAll':
        return this.revoke(a.r % this.regions.length, a.k, a.t);
      case 'cut': {
        const link = this.links[a.l % this.links.length] as SimLink;
        if (link.up) {
          link.up = false;
          link.cuts++;
        }
        return;
      }
      case 'heal':
        (this.links[a.l % this.links.length] as SimLink).up = true;
        return;
      case 'bridgeCrash':
        (this.bridges[a.b % this.bridges.length] as BridgeModel).crash();
        return;
      case 'bridgeCrashMid':
        (this.bridges[a.b % this.bridges.length] as BridgeModel).crashAfter(a.calls);
        return;
      case 'bridgeStart':
        (this.bridges[a.b % this.bridges.length] as BridgeModel).start();
        return;
      case 'storeDown':
      case 'storeLost':
        return this.outage(this.region(a.r), a.ms, a.k === 'storeLost');
      case 'trim': {
        const region = this.region(a.r);
        if (region.up) region.store.trimOldest(a.n);
        return;
      }
    }
  }

  private revoke(r: number, kind: 'logout' | 'logoutAll', t: number): void {
    const region = this.regions[r] as SimRegion;
    const token = this.tokens.length === 0 ? undefined : this.tokens[t % this.tokens.length];
    if (token === undefined || !region.up) return;
    const now = this.nowMs;
    const skew = this.config.clockSkewMs;
    // As tokenRevocation and userRevocation end them: the skew past the token's last instant.
    const revocation: Revocation =
      kind === 'logout'
        ? { kind: 'token', id: token.jti, expiresAtMs: token.expMs + skew, createdAtMs: now }
        : {
            kind: 'user',
            id: token.sub,
            cutoffMs: now + skew,
            expiresAtMs: now + skew + this.config.tokenTtlMs + skew,
            createdAtMs: now,
          };
    region.revoke(revocation, region.name, 'user');
    this.acknowledged.push({ revocation, region: r, lost: false });
  }

  /** The store of `region` unreachable for `ms`, its data lost when `lose`. */
  private outage(region: SimRegion, ms: Milliseconds, lose: boolean): void {
    if (!region.up) return;
    region.up = false;
    const outage = ++region.outages;
    if (lose) {
      region.loseData();
      // What no other store held yet is gone with it: the documented limit, not judged.
      for (const ack of this.acknowledged) {
        if (ack.lost) continue;
        if (this.regions.every((other) => !other.store.holds(ack.revocation))) ack.lost = true;
      }
    }
    this.at(this.nowMs + ms, () => {
      if (region.outages !== outage) return;
      region.up = true;
      region.replicasReadHead();
    });
  }

  /**
   * Idle (blocked reading the peer's log after its position) with its saved position on the
   * peer's head (its data set, its last number).
   */
  private settled(bridge: BridgeModel): boolean {
    const position = bridge.local.position(bridge.peer.name);
    const peer = bridge.peer.store;
    return (
      bridge.alive &&
      bridge.blocked &&
      position !== undefined &&
      position.epoch === peer.epoch &&
      position.seq === peer.seq
    );
  }

  private covers(revocation: Revocation, token: SimToken): boolean {
    if (revocation.kind === 'token') return revocation.id === token.jti;
    if (revocation.kind === 'user') {
      return revocation.id === token.sub && token.iatMs <= revocation.cutoffMs;
    }
    return false;
  }

  /** Live tokens `ack` covers. */
  private coveredTokens(ack: Acknowledged): SimToken[] {
    if (ack.revocation.expiresAtMs <= this.nowMs) return [];
    return this.tokens.filter(
      (token) => token.expMs > this.nowMs && this.covers(ack.revocation, token),
    );
  }

  /**
   * At any time, a region's store rejects every live token a revocation acknowledged there
   * covers (a store that lost its data by its missing epoch, then its not-before).
   */
  private checkOwnRegions(): void {
    for (const ack of this.acknowledged) {
      const region = this.regions[ack.region] as SimRegion;
      if (!region.up) continue;
      for (const token of this.coveredTokens(ack)) {
        if (region.store.isRevoked(token)) continue;
        this.violations.push({
          kind: 'accepted-in-own-region',
          at: this.nowMs - START_MS,
          detail: `${region.name} accepts ${token.jti} (revoked there: ${describe(ack)})`,
        });
        return;
      }
    }
  }

  /** Faults stop: links heal, stores come back, bridges run; then convergence is judged. */
  private quiet(): void {
    for (const link of this.links) link.up = true;
    for (const region of this.regions) {
      region.outages++;
      region.up = true;
      region.replicasReadHead();
    }
    for (const bridge of this.bridges) {
      bridge.crashAfter(0);
      bridge.start();
    }
    const start = this.nowMs;
    const end = start + REGION_QUIET_MS;
    while (this.nowMs < end) {
      this.advanceTo(this.nowMs + 10);
      if (this.bridges.every((b) => this.settled(b))) {
        this.convergenceMs = this.nowMs - start;
        break;
      }
    }
    if (this.convergenceMs === undefined) {
      const behind = this.bridges.filter((b) => !this.settled(b));
      this.violations.push({
        kind: 'no-quiescence',
        at: this.nowMs - START_MS,
        detail: behind.map((b) => `${b.local.name}<-${b.peer.name}`).join(', '),
      });
      return;
    }
    this.checkOwnRegions();
    for (const ack of this.acknowledged) {
      if (ack.lost) continue;
      for (const token of this.coveredTokens(ack)) {
        for (const region of this.regions) {
          if (region.store.isRevoked(token)) continue;
          this.violations.push({
            kind: 'not-converged',
            at: this.nowMs - START_MS,
            detail: `${region.name} accepts ${token.jti} (revoked in region${ack.region}: ${describe(ack)})`,
          });
          return;
        }
      }
    }
  }
}

function describe(ack: Acknowledged): string {
  const r = ack.revocation;
  return r.kind === 'user' ? `user ${r.id} cut-off ${r.cutoffMs - START_MS}` : `${r.kind} ${r.id}`;
}
