import { type InjectedFault } from './fault-schedule';
import { type LoadTotals, type NotedAnswer } from './mixed-load';
import { type SoakOptions } from './soak-options';

/** Resident memory of one process over the run, MiB. */
export interface RssFigures {
  readonly name: string;
  readonly start: number;
  end: number;
  max: number;
}

/** What the soak concludes. */
export interface SoakVerdict {
  /** 5xx and unanswered requests that no fault explains. */
  readonly unexpectedFailures: readonly NotedAnswer[];
  /** 503s of logins and logouts while Redis was down (designed: they need Redis). */
  readonly designed503: number;
  /** Empty when the run passed. */
  readonly violations: readonly string[];
}

/** Judges a run: no revoked token accepted past its bound, no unexplained 5xx, every fault recovered. */
export function judgeSoak(
  totals: LoadTotals,
  faults: readonly InjectedFault[],
  exited: readonly string[],
): SoakVerdict {
  const outages = faults.filter((fault) => fault.kind === 'redis-restart');
  const designed = (answer: NotedAnswer): boolean =>
    answer.status === 503 &&
    (answer.op === 'login' || answer.op === 'logout') &&
    outages.some(
      (fault) => answer.doneAtMs >= fault.startedAtMs && answer.sentAtMs <= fault.readyAtMs,
    );
  const unexpectedFailures = totals.failures.filter((answer) => !designed(answer));
  const violations: string[] = [];
  const accepted = (kind: string): number =>
    totals.acceptances.filter((a) => a.kind === kind).length;
  if (accepted('origin') > 0)
    violations.push(
      `${accepted('origin')} revoked tokens accepted by the replica that revoked them`,
    );
  if (accepted('fan-out') > 0)
    violations.push(`${accepted('fan-out')} revoked tokens accepted past the fan-out bound`);
  if (accepted('resurrected') > 0)
    violations.push(`${accepted('resurrected')} revoked tokens accepted seconds later`);
  if (unexpectedFailures.length > 0)
    violations.push(`${unexpectedFailures.length} unexpected 5xx or unanswered requests`);
  if (totals.validRejected > 0) violations.push(`${totals.validRejected} valid tokens rejected`);
  const unrecovered = faults.filter((fault) => Number.isNaN(fault.readyAfterMs));
  if (unrecovered.length > 0)
    violations.push(`${unrecovered.length} faults after which the replicas did not become ready`);
  if (exited.length > 0) violations.push(`replicas exited: ${exited.join(', ')}`);
  return {
    unexpectedFailures,
    designed503: totals.failures.length - unexpectedFailures.length,
    violations,
  };
}

const int = (value: number): string => Math.round(value).toLocaleString('en-US');
const ms = (value: number): string => (value < 10 ? value.toFixed(1) : String(Math.round(value)));
const pct = (part: number, whole: number): string =>
  `${((100 * part) / Math.max(1, whole)).toFixed(1)}%`;

/** The printed summary of a run. */
export function formatSoakSummary(run: {
  options: SoakOptions;
  totals: LoadTotals;
  faults: readonly InjectedFault[];
  rss: readonly RssFigures[];
  cacheEntries: readonly number[];
  verdict: SoakVerdict;
}): string {
  const { options, totals, faults, rss, cacheEntries, verdict } = run;
  const mix = totals.reads + totals.logins + totals.logouts;
  const all = totals.all.summary();
  const reads = totals.readLatency.summary();
  const recovery = (kind: InjectedFault['kind']): string => {
    const times = faults.filter((fault) => fault.kind === kind).map((fault) => fault.readyAfterMs);
    if (times.length === 0) return `${kind} ×0`;
    return `${kind} ×${times.length}: ready again after ${times.map(ms).join('/')} ms`;
  };
  const downs = faults
    .filter((fault) => fault.kind === 'redis-restart')
    .map((fault) => ms(fault.downMs));
  const accepted = (kind: string): number =>
    totals.acceptances.filter((a) => a.kind === kind).length;
  return [
    '',
    `Soak summary (${(totals.durationMs / 60_000).toFixed(1)} min held)`,
    `  load: ${int(mix)} requests of the mix at ${int(mix / (totals.durationMs / 1000))} req/s (target ${options.rate}): ` +
      `${int(totals.reads)} reads (${pct(totals.reads, mix)}), ${int(totals.logins)} logins (${pct(totals.logins, mix)}), ` +
      `${int(totals.logouts)} logouts (${pct(totals.logouts, mix)}); plus ${int(totals.probes)} probes of revoked tokens`,
    `  latency ms: all p50 ${ms(all.p50)} p99 ${ms(all.p99)} max ${ms(all.max)}; reads p50 ${ms(reads.p50)} p99 ${ms(reads.p99)} max ${ms(reads.max)}`,
    `  revoked tokens accepted past their bound: ${totals.acceptances.length} of ${int(totals.probesAfterBound)} probes sent past it ` +
      `(by the revoking replica ${accepted('origin')}, by another past ${options.fanOutBoundMs} ms ${accepted('fan-out')}, ` +
      `3 s or more later ${accepted('resurrected')})`,
    `  faults: ${recovery('pubsub-kill')}; ${recovery('redis-restart')} (Redis down ${downs.join('/') || '-'} ms)`,
    `  5xx: ${verdict.unexpectedFailures.length} unexpected (incl. unanswered), ${verdict.designed503} designed 503 ` +
      `(logins/logouts while Redis was down); valid tokens rejected: ${totals.validRejected}; statuses ${JSON.stringify(totals.statuses)}`,
    `  RSS MiB start → end (max): ${rss.map((p) => `${p.name} ${int(p.start)} → ${int(p.end)} (${int(p.max)})`).join(', ')}; ` +
      `cache entries at the end: ${cacheEntries.join('/')}`,
    `  verdict: ${verdict.violations.length === 0 ? 'PASS' : `FAIL: ${verdict.violations.join('; ')}`}`,
  ].join('\n');
}
