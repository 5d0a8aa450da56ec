import { setTimeout as sleep } from 'node:timers/promises';
import { type ApiClient } from './api-client';
import { Loops } from './loops';

/** A stretch of time in which a replica did not report itself ready (`performance.now()` ms). */
export interface UnreadyEpisode {
  /** When the last poll that still found it ready was sent (it became unready after this). */
  readonly fromMs: number;
  /** When the first poll that found it ready again returned; `Infinity` if none did. */
  readonly toMs: number;
}

/** What a {@link ReadinessMonitor} saw of one replica. */
export interface ReadinessReport {
  /** The replica's client label. */
  readonly replica: string;
  /** Polls answered other than 200 (or not answered). */
  readonly notReady: number;
  /** When the first and the last poll that was not 200 were sent, if any. */
  readonly firstNotReadyMs: number | undefined;
  readonly lastNotReadyMs: number | undefined;
}

/** A poll that hangs must not hide the replica's state for longer than this. */
const POLL_TIMEOUT_MS = 2_000;

/**
 * Polls `GET /health/ready` of every replica from start() until stop() (an unanswered poll counts
 * as not ready) and keeps, per replica, the count of unready polls and the episodes in which it
 * was not ready. Episodes are measured conservatively: from the last poll that saw it ready to
 * the first that saw it ready again.
 */
export class ReadinessMonitor {
  private readonly loops = new Loops<ReadinessReport>();
  private readonly closed = new Map<number, UnreadyEpisode[]>();
  private readonly openSince = new Map<number, number>();

  /** @param pollPauseMs pause between two polls of one replica */
  constructor(
    private readonly clients: readonly ApiClient[],
    private readonly pollPauseMs = 20,
  ) {}

  /** Starts one polling loop per replica. */
  start(): void {
    this.loops.start(this.clients, (_, replica) => this.poll(replica));
  }

  /** Stops polling and reports, in replica order; an episode still open ends at `Infinity`. */
  async stop(): Promise<ReadinessReport[]> {
    return this.loops.stop();
  }

  /** Episodes of one replica (by index), closed ones and the open one if any. */
  episodes(replica: number): UnreadyEpisode[] {
    const closed = this.closed.get(replica) ?? [];
    const open = this.openSince.get(replica);
    return open === undefined ? [...closed] : [...closed, { fromMs: open, toMs: Infinity }];
  }

  /**
   * The "nothing lost" bound (docs/reliability.md): a replica that was not ready when a
   * revocation returned at `returnedAtMs` should have reached it enforces the revocation from
   * the moment it reports ready again, at the latest; otherwise the `standard` bound holds.
   */
  untilReadyAgain(replica: number, returnedAtMs: number, standard: number): number {
    let until = standard;
    for (const episode of this.episodes(replica)) {
      if (episode.fromMs <= standard && episode.toMs >= returnedAtMs) {
        until = Math.max(until, episode.toMs);
      }
    }
    return until;
  }

  private async poll(replica: number): Promise<ReadinessReport> {
    const client = this.clients[replica] as ApiClient;
    let notReady = 0;
    let firstNotReadyMs: number | undefined;
    let lastNotReadyMs: number | undefined;
    let lastReadySentAt: number | undefined;
    while (this.loops.active) {
      const answer = await client.readiness(POLL_TIMEOUT_MS);
      if (answer.status === 200) {
        const open = this.openSince.get(replica);
        if (open !== undefined) {
          this.openSince.delete(replica);
          this.closed.set(replica, [
            ...(this.closed.get(replica) ?? []),
            { fromMs: open, toMs: answer.doneAtMs },
          ]);
        }
        lastReadySentAt = answer.sentAtMs;
      } else {
        notReady++;
        firstNotReadyMs ??= answer.sentAtMs;
        lastNotReadyMs = answer.sentAtMs;
        if (!this.openSince.has(replica)) {
          this.openSince.set(replica, lastReadySentAt ?? answer.sentAtMs);
        }
      }
      await sleep(this.pollPauseMs);
    }
    return { replica: client.label, notReady, firstNotReadyMs, lastNotReadyMs };
  }
}
