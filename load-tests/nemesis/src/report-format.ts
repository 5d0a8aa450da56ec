import { type CheckResult, type Violation } from './checker';
import { FAULT_KINDS } from './fault-kind';
import { OPERATION_KINDS, type OperationEntry } from './history-entry';
import { type NemesisRunOutcome } from './nemesis-run';

/** Violations and examples printed in full; the history holds the rest. */
const SHOWN = 10;

/** Whether a run passed: no violation, and liveness held. */
export function passed(result: CheckResult): boolean {
  return result.violations.length === 0 && result.liveness.ok;
}

/** The report of a run, as printed at its end. */
export function formatReport(outcome: NemesisRunOutcome): string {
  const { result } = outcome;
  const lines: string[] = [];
  lines.push(
    `Nemesis report — seed ${result.seed ?? '?'}, ${minutes(result.durationMs)} of history, ${minutes(outcome.wallMs)} in all`,
  );
  lines.push(`history: ${outcome.historyPath}`);
  lines.push('', 'Operations (answers by status; 0 = no answer):');
  let total = 0;
  for (const kind of OPERATION_KINDS) {
    const byStatus = result.operations[kind];
    const count = Object.values(byStatus).reduce((sum, n) => sum + n, 0);
    total += count;
    const statuses = Object.entries(byStatus)
      .sort(([a], [b]) => Number(a) - Number(b))
      .map(([status, n]) => `${status}: ${number(n)}`)
      .join(', ');
    lines.push(`  ${kind.padEnd(17)} ${number(count).padStart(9)}   ${statuses}`);
  }
  lines.push(`  ${'all'.padEnd(17)} ${number(total).padStart(9)}`);
  lines.push('', 'Faults (held: injection to heal; ready: heal to every replica ready again):');
  let faults = 0;
  for (const kind of FAULT_KINDS) {
    const figures = result.faults[kind];
    if (figures.count === 0) continue;
    faults += figures.count;
    lines.push(
      `  ${kind.padEnd(20)} ${String(figures.count).padStart(4)}   held ${range(figures.heldMs)}   ready ${range(figures.recoveryMs)}`,
    );
  }
  lines.push(`  ${'all'.padEnd(20)} ${String(faults).padStart(4)}`);
  if (outcome.replicas.length > 0) lines.push('', 'Replicas at the end (since their last start):');
  for (const replica of outcome.replicas) {
    lines.push(
      `  ${replica.label}: REVOCATION_CACHE_MAX ${number(replica.cacheMax)}, cache entries ${number(replica.cacheEntries)}, evictions ${number(replica.evictions)}, store lookups on overflow ${number(replica.overflowLookups)}`,
    );
  }
  lines.push(
    '',
    'Invariant: no token answered 200 past the deadline of a revocation that returned 2xx (README: the rules under faults)',
  );
  lines.push(
    `  tokens revoked for certain ${number(result.revokedTokens)}; indeterminate revocation calls ${number(result.indeterminateRevocations)}`,
  );
  lines.push(
    `  reads of revoked tokens judged ${number(result.judgedRevokedReads)}; not judged: ${number(result.excusedRevokedReads.fault)} to a replica under a fault, ${number(result.excusedRevokedReads.unready)} to one observed not ready`,
  );
  lines.push(
    `  latest 200 on another ready replica after a revocation returned: ${result.latestFanOutAcceptanceMs === undefined ? 'none' : `request sent ${result.latestFanOutAcceptanceMs.toFixed(1)} ms after`}`,
  );
  const excused = Object.entries(result.excusedAcceptances.byCause);
  lines.push(
    `  answered 200 but not judged (no violation): ${excused.length === 0 ? 'none' : excused.map(([cause, n]) => `${number(n)} under ${cause}`).join(', ')}`,
  );
  for (const example of result.excusedAcceptances.examples.slice(0, 3)) {
    lines.push(`    ${describeViolation(example)}`);
  }
  lines.push(`  violations: ${result.violations.length}`);
  for (const violation of result.violations.slice(0, SHOWN))
    lines.push(`    ${describeViolation(violation)}`);
  const { validRejected } = result;
  lines.push(
    '',
    `Valid tokens rejected (fail-safe, no violation): ${number(validRejected.storeLoss)} issued before Redis lost its data (by design), ${number(validRejected.expired)} expired, ${number(validRejected.unexplained.count)} otherwise`,
  );
  for (const read of validRejected.unexplained.examples.slice(0, SHOWN))
    lines.push(`    ${describe(read)}`);
  lines.push(
    `Errors: ${number(result.errors.count)} 5xx other than 503; designed 503: ${number(result.designed503)}; unanswered: ${number(result.unanswered)}`,
  );
  for (const error of result.errors.examples.slice(0, SHOWN)) lines.push(`    ${describe(error)}`);
  lines.push(
    `Liveness: ${result.liveness.ok ? 'ok' : `FAILED: ${result.liveness.problems.join('; ')}`}`,
  );
  lines.push(`VERDICT: ${passed(result) ? 'PASS' : 'FAIL'}`);
  return lines.join('\n');
}

function describeViolation(violation: Violation): string {
  return `${describe(violation.read)} — ${violation.lateMs.toFixed(1)} ms past the deadline (${violation.boundMs} ms after ${describe(violation.revocation)} returned)`;
}

function describe(op: OperationEntry): string {
  const token = op.jti === undefined ? '' : ` jti ${op.jti}`;
  const user = op.sub === undefined ? '' : ` sub ${op.sub}`;
  const detail = op.detail === undefined ? '' : ` (${op.detail})`;
  return `#${op.id} ${op.kind} on ${op.replica}${token}${user} sent ${iso(op.sentAt)} → ${op.status}${detail} after ${(op.doneAt - op.sentAt).toFixed(1)} ms`;
}

function number(value: number | undefined): string {
  return value === undefined ? '?' : Math.round(value).toLocaleString('en-US');
}

function range(values: readonly number[]): string {
  if (values.length === 0) return '—';
  return `${number(Math.min(...values))}–${number(Math.max(...values))} ms`;
}

function minutes(ms: number): string {
  return `${(ms / 60_000).toFixed(1)} min`;
}

function iso(at: number): string {
  return new Date(at).toISOString();
}
