import { type LogPosition, type Revocation, type RevocationEvent } from './revocation';

/**
 * The durable side a replica synchronises from (the Redis store implements it). Kept as an
 * interface so the synchronisation algorithm stays free of any client library.
 */
export interface RevocationSource {
  /** The log's current position, read atomically with the store's epoch. */
  readHead(): Promise<LogPosition>;
  /** Pages through every live revocation without blocking the store. */
  snapshot(onPage: (page: readonly Revocation[]) => void): Promise<void>;
  /** Log entries strictly after `logId`, oldest first, at most `limit`. */
  readAfter(logId: string, limit: number): Promise<RevocationEvent[]>;
  /** Writes revocations back without logging them (used after the store lost its data). */
  restore(revocations: readonly Revocation[]): Promise<void>;
}
