import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { type ApiClient, Loops } from '@rescind/testing';

/** One answered `POST /auth/logout` of a {@link LogoutStream}. */
export interface StreamedLogout {
  readonly token: string;
  /** Base URL of the replica that answered. */
  readonly replica: string;
  /** HTTP status, or 0 when the request failed. */
  readonly status: number;
  /** `performance.now()` when the request was sent and when its answer arrived. */
  readonly sentAtMs: number;
  readonly answeredAtMs: number;
}

/** Options of {@link LogoutStream}. */
export interface LogoutStreamOptions {
  /** Pause of a lane after a 204, so that the stream does not starve the replicas of CPU. @default 10 */
  pauseMs?: number;
  /** Pause of a lane before it retries a token whose logout failed (503, no answer). @default 25 */
  retryPauseMs?: number;
}

/**
 * Logs tokens out one after the other on every replica at once (one lane per replica, each taking
 * the next unused token), from start() until stop() or until the tokens run out. A logout that is
 * not acknowledged (503, no answer) is retried with the same token, so that the stream keeps
 * going through an outage without using up the pool.
 */
export class LogoutStream {
  private readonly lanes = new Loops();
  private next = 0;
  private readonly answers: StreamedLogout[] = [];

  constructor(
    private readonly replicas: readonly ApiClient[],
    private readonly tokens: readonly string[],
    private readonly options: LogoutStreamOptions = {},
  ) {}

  /** Starts one lane per replica. */
  start(): void {
    this.lanes.start(this.replicas, (replica) => this.lane(replica));
  }

  /** Stops the lanes (each finishes its request in flight) and returns every answer. */
  async stop(): Promise<StreamedLogout[]> {
    await this.lanes.stop();
    return [...this.answers];
  }

  /** Every answer so far. */
  get log(): readonly StreamedLogout[] {
    return this.answers;
  }

  /** Logouts acknowledged (204) whose request was sent at or after `sinceMs`. */
  acknowledgedSince(sinceMs: number): number {
    return this.answers.filter((answer) => answer.status === 204 && answer.sentAtMs >= sinceMs)
      .length;
  }

  /** Whether every token has been used. */
  get exhausted(): boolean {
    return this.next >= this.tokens.length;
  }

  private async lane(replica: ApiClient): Promise<void> {
    const { pauseMs = 10, retryPauseMs = 25 } = this.options;
    let token: string | undefined;
    while (this.lanes.active) {
      token ??= this.tokens[this.next++];
      if (token === undefined) return;
      const sentAtMs = performance.now();
      const status = (await replica.logoutAnswer(token)).status;
      this.answers.push({
        token,
        replica: replica.baseUrl,
        status,
        sentAtMs,
        answeredAtMs: performance.now(),
      });
      if (status === 503 || status === 0) {
        await sleep(retryPauseMs);
        continue;
      }
      token = undefined;
      await sleep(pauseMs);
    }
  }
}
