import { performance } from 'node:perf_hooks';
import { ReadinessMonitor, type TestCluster, waitFor } from '@rescind/testing';
import { RevocationAuditor, type Verdict, type VerdictOptions } from './revocation-auditor';
import { SteadyTraffic, type SteadyTrafficOptions, type TrafficTotals } from './steady-traffic';

/** Revocations that must have returned before a fault is injected, and again after recovery. */
export const REVOCATIONS_AROUND_FAULT = 20;
/** How long a phase of the traffic may take to make its revocations on a busy machine. */
const PROGRESS_TIMEOUT_MS = 30_000;

/** The two verdicts of a scenario. */
export interface RunVerdicts {
  /** By the scenario's bound (the fan-out bound of 100 ms unless it states another). */
  readonly strict: Verdict;
  /** By the "nothing lost" bound: what a replica missed while not ready, enforced once ready again. */
  readonly nothingLost: Verdict;
}

/**
 * One scenario's run: steady traffic judged by an auditor, and a readiness monitor, over a
 * started cluster. `start()` returns once the revocation stream is under way; inject the fault,
 * call `revocationsMade()` to let the stream go on after recovery, then `finish()`.
 */
export class FaultRun {
  readonly auditor: RevocationAuditor;
  readonly traffic: SteadyTraffic;
  readonly monitor: ReadinessMonitor;
  private totals: TrafficTotals | undefined;

  constructor(cluster: TestCluster, options: SteadyTrafficOptions = {}) {
    this.auditor = new RevocationAuditor(cluster.clients);
    this.traffic = new SteadyTraffic(this.auditor, options);
    this.monitor = new ReadinessMonitor(cluster.clients.slice(0, cluster.replicas.length));
  }

  /** Starts the traffic and the monitor; resolves once `revocations` revocations have returned. */
  async start(revocations = REVOCATIONS_AROUND_FAULT): Promise<void> {
    this.monitor.start();
    await this.traffic.start();
    if (revocations > 0)
      await this.revocationsMade(revocations, 'the revocation stream to be under way');
  }

  /** Resolves once `count` more revocations have returned. */
  async revocationsMade(
    count = REVOCATIONS_AROUND_FAULT,
    description = 'more revocations',
  ): Promise<void> {
    const target = this.traffic.revocationCount + count;
    await waitFor(() => this.traffic.revocationCount >= target, {
      timeoutMs: PROGRESS_TIMEOUT_MS,
      description: `${description} (${count})`,
    });
  }

  /** Stops the traffic and the monitor (idempotent) and returns what the traffic did. */
  async finish(): Promise<TrafficTotals> {
    if (this.totals === undefined) {
      const totals = await this.traffic.stop();
      await this.monitor.stop();
      this.totals = totals;
    }
    return this.totals;
  }

  /** Both verdicts over everything recorded; `options` apply to both (acceptableUntil to the strict one). */
  verdicts(options: VerdictOptions = {}): RunVerdicts {
    return {
      strict: this.auditor.verdict(options),
      nothingLost: this.auditor.verdict({
        ...options,
        acceptableUntil: (request, revocation, standard) =>
          this.monitor.untilReadyAgain(
            request.replica,
            revocation.returnedAtMs,
            options.acceptableUntil?.(request, revocation, standard) ?? standard,
          ),
      }),
    };
  }

  /** Milliseconds since `sinceMs` until every replica given is observed ready (polling). */
  static async timeUntilReady(
    cluster: TestCluster,
    sinceMs: number,
    timeoutMs: number,
    description: string,
    replicas?: readonly number[],
  ): Promise<number> {
    await cluster.waitAllReady(timeoutMs, description, replicas);
    return performance.now() - sinceMs;
  }
}
