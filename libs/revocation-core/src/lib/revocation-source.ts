import { type LogEntry, type Revocation, type StoreHead } from './revocation';
import { type Milliseconds } from './units';

/**
 * The durable side a replica synchronises from (the Redis store implements it). Kept as an
 * interface so the synchronisation algorithm stays free of any client library.
 */
export interface RevocationSource {
  /**
   * The log's current position and the store-wide not-before, read atomically with the store's
   * epoch. A store without an epoch gets one here, with a not-before of `nowMs + clockSkewMs`.
   */
  readHead(): Promise<StoreHead>;
  /** Pages through every live revocation without blocking the store. */
  snapshot(onPage: (page: readonly Revocation[]) => void): Promise<void>;
  /** Log entries strictly after `logId`, oldest first, at most `limit`; never throws on content. */
  readAfter(logId: string, limit: number): Promise<LogEntry[]>;
  /**
   * Writes revocations back into a store whose history diverged from ours (a failover lost
   * them). Each one the store does not already cover is recorded, logged and published like a
   * new revocation, so that every replica, including one that hydrated after the loss, sees it.
   */
  restore(revocations: readonly Revocation[]): Promise<void>;
  /**
   * Raises the store-wide not-before to at least `notBeforeMs` (never lowers it): the fail-safe
   * when a replica cannot prove it wrote back everything the store lost.
   */
  raiseNotBefore(notBeforeMs: Milliseconds): Promise<void>;
}
