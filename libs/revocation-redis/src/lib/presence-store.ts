import { defineLuaCommands } from './redis-commands';
import { type RedisKeys } from './redis-keys';
import { type RedisClient } from './redis-topology';
import { type ReplicaStatus } from './replica-status';
import { STORE_COMMANDS } from './revocation-store';

/**
 * Where replicas publish their status and the fleet is read from (docs/design.md, "Fleet
 * presence"): one key per replica with a TTL, and an index of instances scored by when their
 * status expires, in Redis time. Advisory: nothing of the revocation promise reads it.
 */
export class PresenceStore {
  private readonly run: ReturnType<typeof defineLuaCommands>;

  constructor(
    redis: RedisClient,
    readonly keys: RedisKeys,
  ) {
    this.run = defineLuaCommands(redis, STORE_COMMANDS);
  }

  /** Writes `status`, living `ttlMs` unless written again, and lists its instance. */
  async publish(status: ReplicaStatus, ttlMs: number): Promise<void> {
    await this.run(
      'rescindPublishPresence',
      [this.keys.presence(status.instance), this.keys.presenceIndex],
      [status.instance, JSON.stringify(status), Math.max(1, Math.ceil(ttlMs))],
    );
  }

  /** Removes an instance's status at once (a clean shutdown). @returns whether it was there */
  async withdraw(instance: string): Promise<boolean> {
    const removed = await this.run(
      'rescindWithdrawPresence',
      [this.keys.presence(instance), this.keys.presenceIndex],
      [instance],
    );
    return removed === 1;
  }

  /**
   * Every status that has not expired, sorted by instance. A status that is not JSON (a newer
   * build's, say) is left out rather than failing the whole list.
   */
  async list(): Promise<ReplicaStatus[]> {
    const raws = (await this.run(
      'rescindListPresence',
      [this.keys.presenceIndex],
      [this.keys.presenceStem()],
    )) as string[];
    const statuses: ReplicaStatus[] = [];
    for (const raw of raws) {
      try {
        const status = JSON.parse(raw) as ReplicaStatus;
        if (typeof status?.instance === 'string') statuses.push(status);
      } catch {
        // not ours to judge: skipped
      }
    }
    return statuses.sort((a, b) =>
      a.instance < b.instance ? -1 : a.instance > b.instance ? 1 : 0,
    );
  }
}
