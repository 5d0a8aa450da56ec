import { type Verdict } from './revocation-auditor';
import { type TrafficTotals } from './steady-traffic';

/** The figures of one scenario, as printed in one line and copied to docs/reliability.md. */
export interface ScenarioFigures {
  /** e.g. `1 pubsub-kill`. */
  readonly scenario: string;
  readonly traffic: TrafficTotals;
  readonly verdict: Verdict;
  /**
   * The same requests judged by the "nothing lost" bound (a replica that was not ready enforces
   * what it missed from the moment it is ready again), where the scenario reports it.
   */
  readonly nothingLost?: Verdict;
  /** What was injected, e.g. `10x CLIENT KILL TYPE pubsub every 300 ms`. */
  readonly faults: string;
  /** Recovery figures, e.g. `{ 'ready again ms': 240 }`. */
  readonly recovery: Readonly<Record<string, number | string>>;
}

const n = (value: number): string => value.toLocaleString('en-US');

/** One compact line: load held, faults, revoked tokens accepted late, 5xx, recovery. */
export function scenarioLine(figures: ScenarioFigures): string {
  const { traffic, verdict } = figures;
  const seconds = (traffic.durationMs / 1000).toFixed(1);
  const recovery = Object.entries(figures.recovery)
    .map(([what, value]) => `${what} ${typeof value === 'number' ? Math.round(value) : value}`)
    .join(', ');
  return [
    `[faults] ${figures.scenario}`,
    `load ${seconds} s: ${n(verdict.requests)} requests (${n(traffic.reads)} valid reads, ` +
      `${n(traffic.probes)} revoked-token probes, ${n(verdict.revocations)} revocations, ` +
      `${n(traffic.logoutAlls)} of them logout-all)`,
    `faults: ${figures.faults}`,
    `revoked accepted late: ${verdict.acceptedLate.length}` +
      (figures.nothingLost === undefined
        ? ''
        : `, after ready again: ${figures.nothingLost.acceptedLate.length}`) +
      ` (presented ${n(verdict.revokedPresented)}, ` +
      `accepted within bound ${verdict.acceptedWithinBound}, latest acceptance ` +
      `${Math.round(verdict.latestAcceptanceMs)} ms after return)`,
    `5xx: ${verdict.unexpected5xx.length} unexpected, ${verdict.designed503} designed 503`,
    `valid rejected: ${verdict.validRejected.length}`,
    `recovery: ${recovery}`,
  ].join(' | ');
}
