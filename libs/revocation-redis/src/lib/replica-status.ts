import { type RecordedPosition } from './revocation-store';

/**
 * What one replica publishes about itself (docs/design.md, "Fleet presence"), as the JSON its
 * status key holds and `GET /admin/replicas` lists: member names are the wire's.
 */
export interface ReplicaStatus {
  /** The replica's instance id. */
  readonly instance: string;
  /** Where it runs, when configured. */
  readonly region?: string;
  /** The last log position it has applied; `null` before its first hydration. */
  readonly log_position: RecordedPosition | null;
  /** Whether it answers 200 on its readiness probe. */
  readonly ready: boolean;
  /** Hydrated, subscribed, caught up, store reachable and within the staleness bound. */
  readonly in_sync: boolean;
  /** Milliseconds since it last confirmed it is in sync; -1 before its first hydration. */
  readonly staleness_ms: number;
  /** Revocations held in its cache. */
  readonly cache_entries: number;
  /** When it wrote this status (ISO 8601, its clock). */
  readonly reported_at: string;
  /** When it started (ISO 8601, its clock). */
  readonly started_at: string;
}

/** What a confirmation is judged against: a revocation's position and when it was made. */
export interface ConfirmationTarget {
  /** Where it was logged; absent for records written before the store kept it. */
  readonly position?: RecordedPosition;
  /** When it was made (ms, the clock of the replica that made it). */
  readonly createdAtMs: number;
}

/**
 * Whether `status` shows that its replica enforces the revocation: the replica is ready and in
 * sync, on the revocation's data set (epoch), and has applied the log up to its sequence number
 * or beyond. Positions only grow within an epoch, so a later status never takes it back. For a
 * record without a position (written before the store kept one), a ready replica in sync confirms
 * once its last confirmed catch-up (`reported_at - staleness_ms`) began after the revocation was
 * made, which leans on the replicas' clocks agreeing (docs/design.md, "Fleet presence").
 */
export function confirmsRevocation(status: ReplicaStatus, target: ConfirmationTarget): boolean {
  if (!status.ready || !status.in_sync || status.log_position === null) return false;
  if (target.position !== undefined) {
    return (
      status.log_position.epoch === target.position.epoch &&
      status.log_position.seq >= target.position.seq
    );
  }
  const confirmedSinceMs = Date.parse(status.reported_at) - status.staleness_ms;
  return Number.isFinite(confirmedSinceMs) && confirmedSinceMs > target.createdAtMs;
}
