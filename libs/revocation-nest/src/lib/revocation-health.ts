import { Inject, Injectable } from '@nestjs/common';
import { type Clock, RevocationSynchronizer, type SyncState } from '@rescind/revocation-core';
import { REVOCATION_CLOCK } from './revocation.constants';

/** Readiness of this replica as a load balancer should see it. */
export interface RevocationReadiness {
  readonly ready: boolean;
  readonly hydrated: boolean;
  readonly subscribed: boolean;
  readonly caughtUp: boolean;
  readonly storeReachable: boolean;
  readonly stalenessMs: number;
}

/** Readiness indicator: hydrated, store reachable, subscribed and caught up, and fresh. */
@Injectable()
export class RevocationHealth {
  private draining = false;

  constructor(
    private readonly sync: RevocationSynchronizer,
    @Inject(REVOCATION_CLOCK) private readonly clock: Clock,
  ) {}

  /** Reports not ready from now on (graceful shutdown). */
  drain(): void {
    this.draining = true;
  }

  /** The current readiness with its reasons. */
  readiness(): RevocationReadiness {
    const now = this.clock.now();
    const state: SyncState = this.sync.state;
    return {
      ready: !this.draining && this.sync.isReady(now),
      hydrated: state.hydrated,
      subscribed: state.subscribed,
      caughtUp: state.caughtUp,
      storeReachable: state.storeReachable,
      stalenessMs: state.hydrated ? this.sync.stalenessMs(now) : -1,
    };
  }
}
