import { type LogPosition, type RevocationEvent } from './revocation';
import { type Milliseconds } from './units';

/** Why a replica re-read state from the store. */
export type ResyncCause =
  'startup' | 'resubscribe' | 'gap' | 'log-trimmed' | 'store-reset' | 'anti-entropy';

/**
 * Why the store-wide not-before rose on this replica: read at `startup` (every data set has one
 * from its creation), seen to rise in the `store` (it lost its data, or another replica failed
 * safe), or raised here because this replica could not write back everything a diverged store
 * lost (`incomplete-write-back`).
 */
export type NotBeforeCause = 'startup' | 'store' | 'incomplete-write-back';

/** Hooks for metrics and logs; every method is optional. */
export interface SyncObserver {
  /** A live event changed the cache `lagMs` after the revocation was made. */
  onApplied?(event: RevocationEvent, lagMs: Milliseconds): void;
  /** A message on the channel failed validation and was dropped. */
  onMalformed?(reason: string): void;
  /** The replica caught up or re-hydrated for `cause`; `applied` entries were new. */
  onResync?(cause: ResyncCause, applied: number): void;
  /** Every token issued at or before `notBeforeMs` is now rejected by this replica. */
  onNotBefore?(notBeforeMs: Milliseconds, cause: NotBeforeCause): void;
  /** A synchronisation round failed (store unreachable, timeout…). */
  onSyncError?(error: unknown): void;
  /**
   * The applied log position changed (a live event, a catch-up page, a hydration). Called on the
   * hot path, once per event: keep it to a flag or a timer (docs/design.md, "Fleet presence").
   */
  onPosition?(position: LogPosition): void;
}
