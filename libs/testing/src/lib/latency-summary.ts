/** Percentiles of a set of durations, in milliseconds. */
export interface LatencySummary {
  readonly count: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

/** Nearest-rank percentile (`p` in 0–100) of samples sorted ascending. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1] as number;
}

/** p50, p99 and max of `samples`. */
export function summarize(samples: readonly number[]): LatencySummary {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1] ?? Number.NaN,
  };
}

/** `p50=1.2 p99=3.4 max=5.6 (n=100)` */
export function formatSummary(summary: LatencySummary): string {
  const ms = (value: number): string => value.toFixed(1);
  return `p50=${ms(summary.p50)} p99=${ms(summary.p99)} max=${ms(summary.max)} (n=${summary.count})`;
}
