import { setTimeout as sleep } from 'node:timers/promises';
import { type ApiClient } from '@rescind/testing';

/** What a {@link RevokedWatch} saw. */
export interface RevokedWatchReport {
  /** Checks answered, all replicas together. */
  readonly checks: number;
  /** Answers by status, e.g. `{ 401: 950, 503: 12 }`; `error` counts failed requests. */
  readonly statuses: Readonly<Record<string, number>>;
  /** Every time a replica accepted (200) a revoked token: the replica and the token. */
  readonly accepted: ReadonlyArray<{ replica: string; token: string }>;
}

/**
 * Keeps asking every replica about revoked tokens, round-robin, from start() until stop(), so that
 * a revoked token accepted at any moment of a disruption (not only after it) is caught.
 */
export class RevokedWatch {
  private running = false;
  private loops: Promise<void>[] = [];
  private checks = 0;
  private readonly statuses: Record<string, number> = {};
  private readonly accepted: Array<{ replica: string; token: string }> = [];

  /**
   * @param pauseMs pause between two checks of one replica, so that the watch does not starve
   *   the replicas of CPU on a small machine
   */
  constructor(
    private readonly replicas: readonly ApiClient[],
    private readonly revokedTokens: readonly string[],
    private readonly pauseMs = 5,
  ) {}

  /** Starts one checking loop per replica. */
  start(): void {
    this.running = true;
    this.loops = this.replicas.map((replica, offset) => this.watch(replica, offset));
  }

  /** Stops the loops and reports. */
  async stop(): Promise<RevokedWatchReport> {
    this.running = false;
    await Promise.all(this.loops);
    return { checks: this.checks, statuses: { ...this.statuses }, accepted: [...this.accepted] };
  }

  private async watch(replica: ApiClient, offset: number): Promise<void> {
    for (let i = offset; this.running; i++) {
      const token = this.revokedTokens[i % this.revokedTokens.length] as string;
      // No answer at all (refused, reset, timed out) is status 0.
      const status = await replica.meStatus(token);
      const outcome = status === 0 ? 'error' : String(status);
      if (status === 200) this.accepted.push({ replica: replica.baseUrl, token });
      this.checks++;
      this.statuses[outcome] = (this.statuses[outcome] ?? 0) + 1;
      await sleep(this.pauseMs);
    }
  }
}
