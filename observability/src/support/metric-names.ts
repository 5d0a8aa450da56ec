/** `up`: Prometheus writes it for every target; no exporter serves it. */
export const SCRAPE_METRICS: ReadonlySet<string> = new Set(['up']);

/**
 * The metric names a PromQL expression reads: Rescind's (`rescind_*`), the recorded ones
 * (`rescind:*`) and `up`. No label name or value of Rescind starts with `rescind_`.
 */
export function metricNamesIn(expr: string): string[] {
  const names = expr.match(/\brescind[_:][a-zA-Z0-9_:]*|\bup\b(?=\s*[{[)]|\s*$)/g) ?? [];
  return [...new Set(names)];
}

/** Suffixes of the series a histogram or summary family exposes besides its own name. */
const SERIES_SUFFIXES: Readonly<Record<string, readonly string[]>> = {
  histogram: ['_bucket', '_sum', '_count'],
  summary: ['_sum', '_count'],
};

/**
 * Every series name a `/metrics` text in the Prometheus format declares (`# TYPE` lines), with
 * the `_bucket`, `_sum` and `_count` series of histograms and summaries: a labelled counter that
 * was never incremented has no sample yet, but its name is exposed.
 */
export function exposedMetricNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    if (name === undefined || type === undefined) continue;
    names.add(name);
    for (const suffix of SERIES_SUFFIXES[type] ?? []) names.add(`${name}${suffix}`);
  }
  return names;
}
