import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { type ApiClient } from './api-client';

/** What a {@link ReadinessMonitor} saw of one replica. */
export interface ReadinessReport {
  readonly replica: string;
  /** Polls answered other than 200 (or not answered). */
  readonly notReady: number;
  /** `performance.now()` of the first and the last poll that was not 200, if any. */
  readonly firstNotReadyMs: number | undefined;
  readonly lastNotReadyMs: number | undefined;
}

/** Polls `GET /health/ready` of every replica from start() until stop(). */
export class ReadinessMonitor {
  private running = false;
  private loops: Promise<ReadinessReport>[] = [];

  /** @param intervalMs pause between two polls of one replica */
  constructor(
    private readonly replicas: readonly ApiClient[],
    private readonly intervalMs = 20,
  ) {}

  /** Starts one polling loop per replica. */
  start(): void {
    this.running = true;
    this.loops = this.replicas.map((replica) => this.watch(replica));
  }

  /** Stops polling and reports, in replica order. */
  async stop(): Promise<ReadinessReport[]> {
    this.running = false;
    return Promise.all(this.loops);
  }

  private async watch(replica: ApiClient): Promise<ReadinessReport> {
    let notReady = 0;
    let firstNotReadyMs: number | undefined;
    let lastNotReadyMs: number | undefined;
    while (this.running) {
      const at = performance.now();
      if (!(await replica.isReady())) {
        notReady++;
        firstNotReadyMs ??= at;
        lastNotReadyMs = at;
      }
      await sleep(this.intervalMs);
    }
    return { replica: replica.baseUrl, notReady, firstNotReadyMs, lastNotReadyMs };
  }
}
