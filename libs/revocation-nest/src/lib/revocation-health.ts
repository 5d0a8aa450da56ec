import { Inject, Injectable, Optional } from '@nestjs/common';
import { type Clock, RevocationSynchronizer, type SyncState } from '@rescind/revocation-core';
import { REVOCATION_CLOCK } from './revocation.constants';
import { NOT_CONNECTED_REASON } from './revocation-connect.check';
import { RevocationEventsServer } from './revocation-events.server';
import { PRESENCE_SIGNAL, type PresenceSignal } from './presence-signal';

/** Readiness of this replica as a load balancer should see it. */
export interface RevocationReadiness {
  readonly ready: boolean;
  readonly hydrated: boolean;
  readonly subscribed: boolean;
  readonly caughtUp: boolean;
  readonly storeReachable: boolean;
  readonly stalenessMs: number;
  /**
   * Present when the fix is in the application's code rather than in Redis: `pub/sub not
   * connected: call RevocationModule.connect(app)`. Such a replica never subscribes, so it stays
   * not ready (docs/design.md, "Pub/sub is at-most-once": a replica without its subscription is
   * not ready), although what it enforces, polled, is correct.
   */
  readonly reason?: string;
}

/** Readiness indicator: hydrated, store reachable, subscribed and caught up, and fresh. */
@Injectable()
export class RevocationHealth {
  private draining = false;

  constructor(
    private readonly sync: RevocationSynchronizer,
    @Inject(REVOCATION_CLOCK) private readonly clock: Clock,
    private readonly events: RevocationEventsServer,
    @Optional() @Inject(PRESENCE_SIGNAL) private readonly presence?: PresenceSignal,
  ) {}

  /** Reports not ready from now on (graceful shutdown), to the fleet's presence too. */
  drain(): void {
    this.draining = true;
    this.presence?.notify();
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
      ...(this.events.connected ? {} : { reason: NOT_CONNECTED_REASON }),
    };
  }
}
