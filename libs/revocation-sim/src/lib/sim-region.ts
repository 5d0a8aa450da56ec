import { type Milliseconds, type Revocation } from '@rescind/revocation-core';
import { type BridgePosition, EventCodec, positionOf } from '@rescind/revocation-redis';
import { ModelStore, type RevokeReply } from './model-store';

/**
 * One region: its own store (the model of its Redis, which also keeps the bridges' positions)
 * and whether it can be reached. A region's replicas are not modelled here, but for their reads
 * of the head when they start or reconnect (README, "Regions").
 */
export class SimRegion {
  readonly store: ModelStore;
  /** Reachable (false during an outage). */
  up = true;
  /** Outages started, so that only the last one's end brings the store back. */
  outages = 0;
  /**
   * The bridges' position hashes by peer, as the save-position script writes them (with the
   * local data set each was applied to) and `HGETALL` returns them.
   */
  private readonly positions = new Map<string, Readonly<Record<string, string>>>();
  /** Blocked log reads, woken by the next append (as `XADD` wakes `XREAD BLOCK`). */
  private waiters: (() => void)[] = [];

  constructor(
    readonly name: string,
    private readonly now: () => Milliseconds,
    private readonly clockSkewMs: Milliseconds,
  ) {
    this.store = new ModelStore(now, () => undefined);
  }

  /**
   * The revoke script through `RevocationStore.revoke`'s arguments: the record and the event
   * fields by revocation-redis's codec, with `origin` marked and the audit trail logged.
   */
  revoke(revocation: Revocation, origin: string, actor: string): RevokeReply {
    const now = this.now();
    const reply = this.store.revoke({
      revocation,
      recordJson: EventCodec.record({ ...revocation, reason: 'sim', actor, origin }),
      nowMs: now,
      wire: EventCodec.revokeArguments(revocation, origin, { reason: 'sim', actor }),
      newEpochNotBeforeMs: now + this.clockSkewMs,
    });
    if (reply !== null) {
      const woken = this.waiters;
      this.waiters = [];
      for (const wake of woken) wake();
    }
    return reply;
  }

  /** Calls `wake` at the next append to the log. */
  onAppend(wake: () => void): void {
    this.waiters.push(wake);
  }

  /** The read-head script (creates a data set when there is none); returns the epoch. */
  readHead(): { epoch: string; seq: number; logId: string } {
    const [epoch, seq, logId] = this.store.readHead(this.now() + this.clockSkewMs);
    return { epoch, seq: Number(seq), logId };
  }

  /** `HGETALL` of the position hash of the bridge from `peer` (empty when none was saved). */
  positionHash(peer: string): Readonly<Record<string, string>> {
    return this.positions.get(peer) ?? {};
  }

  /** The position of the bridge from `peer`, if saved against this data set (the bridge's rule). */
  position(peer: string): BridgePosition | undefined {
    return positionOf(this.positionHash(peer), this.store.epoch);
  }

  /**
   * The save-position script: refused (false) when this store's data set is no longer
   * `localEpoch` (revocation-redis, `saveBridgePosition-2.lua`).
   */
  savePosition(localEpoch: string, peer: string, position: BridgePosition): boolean {
    if (this.store.epoch !== localEpoch) return false;
    this.positions.set(peer, {
      localEpoch,
      epoch: position.epoch,
      seq: String(position.seq),
      logId: position.logId,
    });
    return true;
  }

  /**
   * What the region's replicas do when they start or reconnect (their catch-up reads the head),
   * the one thing of theirs the bridges depend on: a store without a data set gets one. Bridges
   * never create one in a peer (`planReread`), so without this an emptied region would be waited
   * for forever.
   */
  replicasReadHead(): void {
    this.readHead();
  }

  /** A restart without persistence: the data set and the positions kept in it are gone. */
  loseData(): void {
    this.store.restart(false);
    this.positions.clear();
  }
}
