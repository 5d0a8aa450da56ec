import { performance } from 'node:perf_hooks';
import { ReadinessMonitor, TestCluster, type TestClusterOptions, waitFor } from '@rescind/testing';
import {
  type AuditedRequest,
  type LateAcceptance,
  RevocationAuditor,
  type Verdict,
  type VerdictOptions,
} from './revocation-auditor';
import { type ScenarioFigures, scenarioLine } from './scenario-summary';
import { SteadyTraffic, type SteadyTrafficOptions, type TrafficTotals } from './steady-traffic';

/** What a scenario ran into, once its `beforeAll` is done (unset when it failed early). */
export interface ScenarioOutcome {
  readonly verdicts: RunVerdicts | undefined;
  readonly totals: TrafficTotals | undefined;
}

/** How a scenario words the checks of {@link FaultRun.judge}, and what it shows of a failure. */
export interface JudgedRun {
  /**
   * No revoked token accepted later than the scenario's bound.
   * @default `accepts no revoked token later than 100 ms after its revocation returned (at once on the replica that made it)`
   */
  readonly strict?: string;
  /**
   * Nothing lost: what a replica missed while not ready is enforced once it is ready again.
   * @default `loses nothing: a replica that missed events while reconnecting enforces them once it is ready again`
   */
  readonly nothingLost?: string;
  /** No 5xx but the designed ones, no request unanswered, no valid token rejected. */
  readonly clean: string;
  /** Shows a late acceptance with what the scenario knows of it (e.g. the time since a fault). */
  readonly explainLate?: (late: LateAcceptance) => unknown;
  /** Shows an unexpected 5xx with what the scenario knows of it. */
  readonly explain5xx?: (request: AuditedRequest) => unknown;
}

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

  /**
   * The cluster of one fault scenario, the worker included unless `worker` says otherwise:
   * started from a private build snapshot (processes restart while someone may be rebuilding
   * `dist/`), with time to be ready on a busy machine.
   */
  static cluster(
    name: string,
    options: Omit<TestClusterOptions, 'suite' | 'name'> = {},
  ): TestCluster {
    return new TestCluster({
      suite: 'faults',
      snapshot: true,
      readyTimeoutMs: 60_000,
      worker: {},
      name,
      ...options,
    });
  }

  /**
   * Starts the cluster, then a run over it (see {@link FaultRun.start}); a run that fails to
   * start is finished, so that no traffic outlives it.
   */
  static async begin(cluster: TestCluster, options: SteadyTrafficOptions = {}): Promise<FaultRun> {
    await cluster.start();
    const run = new FaultRun(cluster, options);
    await run.start().catch(async (error: unknown) => {
      await run.finish();
      throw error;
    });
    return run;
  }

  /**
   * Ends a scenario: prints its figures in one line (docs/reliability.md quotes them) when it ran,
   * then stops the cluster. `figures` is read only then, once the scenario's values are set.
   */
  static afterScenario(
    cluster: TestCluster,
    outcome: () => ScenarioOutcome,
    figures: () => Omit<ScenarioFigures, 'traffic' | 'verdict' | 'nothingLost'>,
  ): void {
    afterAll(async () => {
      const { verdicts, totals } = outcome();
      if (verdicts !== undefined && totals !== undefined) {
        const judged = { verdict: verdicts.strict, nothingLost: verdicts.nothingLost };
        // The scenario's figures are its report, printed like the specs' own (docs/reliability.md).
        // eslint-disable-next-line no-console
        console.log(scenarioLine({ ...figures(), traffic: totals, ...judged }));
      }
      await cluster.stop();
    });
  }

  /**
   * The checks every audited scenario makes of its two verdicts (docs/reliability.md): call inside
   * the scenario's `describe`, after `beforeAll` has run the traffic and taken the verdicts.
   */
  static judge(verdicts: () => RunVerdicts, judged: JudgedRun): void {
    const {
      strict = 'accepts no revoked token later than 100 ms after its revocation returned (at once on the replica that made it)',
      nothingLost = 'loses nothing: a replica that missed events while reconnecting enforces them once it is ready again',
      explainLate = (late) => late,
      explain5xx = (request) => request,
    } = judged;
    it(strict, () => {
      expect(verdicts().strict.revokedPresented).toBeGreaterThan(100);
      expect(verdicts().strict.acceptedLate.map(explainLate)).toEqual([]);
    });
    it(nothingLost, () => {
      expect(verdicts().nothingLost.acceptedLate).toEqual([]);
    });
    it(judged.clean, () => {
      expect(verdicts().strict.unexpected5xx.map(explain5xx)).toEqual([]);
      expect(verdicts().strict.unexpectedNoAnswer).toEqual([]);
      expect(verdicts().strict.validRejected).toEqual([]);
    });
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
