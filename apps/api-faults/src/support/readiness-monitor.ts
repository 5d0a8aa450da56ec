import { setTimeout as sleep } from 'node:timers/promises';
import { type ApiClient } from './api-client';
import { type AuditedRequest, type AuditedRevocation } from './revocation-auditor';

/** A stretch of time in which a replica did not report itself ready (`performance.now()` ms). */
export interface UnreadyEpisode {
  /** When the last poll that still found it ready was sent (it became unready after this). */
  readonly fromMs: number;
  /** When the first poll that found it ready again returned; `Infinity` if none did. */
  readonly toMs: number;
}

/**
 * Polls `/health/ready` of every replica in a loop and keeps, per replica, the episodes in which
 * it was not ready (an unanswered poll counts as not ready). The episodes are measured
 * conservatively: from the last poll that saw it ready to the first that saw it ready again.
 */
export class ReadinessMonitor {
  private running = false;
  private loops: Promise<void>[] = [];
  private readonly episodesByReplica = new Map<number, UnreadyEpisode[]>();
  private readonly openSince = new Map<number, number>();
  private readonly lastReadySentAt = new Map<number, number>();

  /**
   * @param pollPauseMs pause between two polls of one replica
   */
  constructor(
    private readonly clients: readonly ApiClient[],
    private readonly pollPauseMs = 20,
  ) {}

  /** Starts one polling loop per replica. */
  start(): void {
    this.running = true;
    this.loops = this.clients.map((_, replica) => this.poll(replica));
  }

  /** Stops polling; an episode still open stays open (ends at `Infinity`). */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  /** Episodes of one replica, closed ones and the open one if any. */
  episodes(replica: number): UnreadyEpisode[] {
    const closed = this.episodesByReplica.get(replica) ?? [];
    const open = this.openSince.get(replica);
    return open === undefined ? [...closed] : [...closed, { fromMs: open, toMs: Infinity }];
  }

  /**
   * The "nothing lost" bound (contract promise 3): a replica that was not ready when a revocation
   * should have reached it enforces the revocation from the moment it reports ready again, at
   * the latest; otherwise the standard bound holds.
   */
  untilReadyAgain(
    request: AuditedRequest,
    revocation: AuditedRevocation,
    standard: number,
  ): number {
    let until = standard;
    for (const episode of this.episodes(request.replica)) {
      if (episode.fromMs <= standard && episode.toMs >= revocation.returnedAtMs) {
        until = Math.max(until, episode.toMs);
      }
    }
    return until;
  }

  private async poll(replica: number): Promise<void> {
    const client = this.clients[replica] as ApiClient;
    while (this.running) {
      const answer = await client.readiness();
      if (answer.status === 200) {
        const open = this.openSince.get(replica);
        if (open !== undefined) {
          this.openSince.delete(replica);
          const list = this.episodesByReplica.get(replica) ?? [];
          list.push({ fromMs: open, toMs: answer.doneAtMs });
          this.episodesByReplica.set(replica, list);
        }
        this.lastReadySentAt.set(replica, answer.sentAtMs);
      } else if (!this.openSince.has(replica)) {
        this.openSince.set(replica, this.lastReadySentAt.get(replica) ?? answer.sentAtMs);
      }
      await sleep(this.pollPauseMs);
    }
  }
}
