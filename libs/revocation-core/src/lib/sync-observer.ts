import { type RevocationEvent } from './revocation';
import { type Milliseconds } from './units';

/** Why a replica re-read state from the store. */
export type ResyncCause =
  'startup' | 'resubscribe' | 'gap' | 'log-trimmed' | 'store-reset' | 'anti-entropy';

/** Hooks for metrics and logs; every method is optional. */
export interface SyncObserver {
  /** A live event changed the cache `lagMs` after the revocation was made. */
  onApplied?(event: RevocationEvent, lagMs: Milliseconds): void;
  /** A message on the channel failed validation and was dropped. */
  onMalformed?(reason: string): void;
  /** The replica caught up or re-hydrated for `cause`; `applied` entries were new. */
  onResync?(cause: ResyncCause, applied: number): void;
  /** A synchronisation round failed (store unreachable, timeout…). */
  onSyncError?(error: unknown): void;
}
