import {
  type CheckedClaims,
  type Clock,
  type LogEntry,
  type Milliseconds,
  type Revocation,
  type RevocationEvent,
  type RevocationSource,
  type StoreHead,
  wholeMilliseconds,
} from '@rescind/revocation-core';
import { EventCodec, restoreRevocations } from '@rescind/revocation-redis';
import { type ModelStore, type RevokeReply } from './model-store';
import { type SimConnection } from './sim-connection';

/**
 * The client half of revocation-redis's `RevocationStore`, over a simulated connection to the
 * model store: the same arguments computed on the caller's side by the same code (its clock,
 * whole milliseconds, revocation-redis's event codec for the record and the event fields), the
 * same replies decoded the same way.
 */
export class StoreClient implements RevocationSource {
  constructor(
    private readonly connection: SimConnection,
    private readonly store: ModelStore,
    private readonly clock: Clock,
    private readonly clockSkewMs: Milliseconds,
  ) {}

  /**
   * Records a revocation (`RevocationStore.revoke`).
   * @param onRun called at the server with the script's reply when it ran
   */
  async revoke(
    revocation: Revocation,
    audit: { reason?: string; actor?: string } = {},
    onRun?: (reply: RevokeReply) => void,
  ): Promise<RevocationEvent | null> {
    revocation = wholeMilliseconds(revocation);
    const now = this.clock.now();
    const recordJson = EventCodec.record({ ...revocation, ...audit });
    const wire = EventCodec.revokeArguments(revocation);
    const reply = await this.connection.call('revoke', () => {
      const result = this.store.revoke({
        revocation,
        recordJson,
        nowMs: now,
        wire,
        newEpochNotBeforeMs: now + this.clockSkewMs,
      });
      onRun?.(result);
      return result;
    });
    if (reply === null) return null;
    const [epoch, seq, logId, prevLogId] = reply;
    return { ...revocation, epoch, seq: Number(seq), logId, prevLogId };
  }

  /** Whether the store revokes this token (`RevocationStore.isRevoked`, one `MGET`). */
  isRevoked(claims: CheckedClaims): Promise<boolean> {
    return this.connection.call('isRevoked', () => this.store.isRevoked(claims));
  }

  /** @inheritdoc */
  async readHead(): Promise<StoreHead> {
    const notBefore = this.clock.now() + this.clockSkewMs;
    const [epoch, seq, logId, notBeforeMs] = await this.connection.call('readHead', () =>
      this.store.readHead(notBefore),
    );
    return { epoch, seq: Number(seq), logId, notBeforeMs: Number(notBeforeMs) || 0 };
  }

  /** @inheritdoc */
  async raiseNotBefore(notBeforeMs: Milliseconds): Promise<void> {
    await this.connection.call('raiseNotBefore', () =>
      this.store.raiseNotBefore(Math.ceil(notBeforeMs)),
    );
  }

  /** @inheritdoc */
  async snapshot(onPage: (page: readonly Revocation[]) => void): Promise<void> {
    const members = await this.connection.call('zscan', () => this.store.scanIndex());
    const now = this.clock.now();
    const page: Revocation[] = [];
    const users: string[] = [];
    for (const { member, score } of members) {
      if (score <= now) continue;
      const id = member.slice(2);
      if (member.startsWith('t:')) {
        page.push({ kind: 'token', id, expiresAtMs: score, createdAtMs: 0 });
      } else if (member.startsWith('s:')) {
        page.push({ kind: 'session', id, expiresAtMs: score, createdAtMs: 0 });
      } else if (member.startsWith('u:')) users.push(id);
    }
    if (users.length > 0) {
      for (const raw of await this.connection.call('mget users', () =>
        this.store.userRecords(users),
      )) {
        if (raw !== null) page.push(EventCodec.revocationOfRecord(raw));
      }
    }
    if (page.length > 0) onPage(page);
  }

  /** @inheritdoc */
  readAfter(logId: string, limit: number): Promise<LogEntry[]> {
    return this.connection.call('readAfter', () => this.store.readAfter(logId, limit));
  }

  /** @inheritdoc */
  async restore(revocations: readonly Revocation[]): Promise<void> {
    // Through the one logged write path, by RevocationStore.restore's own code.
    await restoreRevocations(revocations, this.clock, (revocation, audit) =>
      this.revoke(revocation, audit),
    );
  }
}
