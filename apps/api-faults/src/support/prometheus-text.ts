/** The sum of every sample of a metric (all label sets) in Prometheus text, or 0 when absent. */
export function metricValue(metricsText: string, name: string, labelFilter?: string): number {
  let total = 0;
  for (const line of metricsText.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (match === null || match[1] !== name) continue;
    if (labelFilter !== undefined && !(match[2] ?? '').includes(labelFilter)) continue;
    total += Number(match[3]);
  }
  return total;
}
