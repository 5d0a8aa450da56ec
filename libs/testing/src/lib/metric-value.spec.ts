import { metricValue } from './api-http';

const TEXT = [
  '# HELP rescind_resyncs_total Catch-ups from the log, by cause.',
  '# TYPE rescind_resyncs_total counter',
  'rescind_resyncs_total{cause="gap",instance="a"} 2',
  'rescind_resyncs_total{cause="gap",instance="b"} 3',
  'rescind_resyncs_total{cause="resubscribe",instance="a"} 1',
  'rescind_cache_entries 0',
].join('\n');

describe('metricValue', () => {
  it('sums every sample whose labels contain the pairs given', () => {
    expect(metricValue(TEXT, 'rescind_resyncs_total')).toBe(6);
    expect(metricValue(TEXT, 'rescind_resyncs_total', { cause: 'gap' })).toBe(5);
    expect(metricValue(TEXT, 'rescind_resyncs_total', { cause: 'gap', instance: 'b' })).toBe(3);
  });

  it('reads a sample of 0 as 0', () => {
    expect(metricValue(TEXT, 'rescind_cache_entries')).toBe(0);
  });

  it('is undefined, never 0, for a metric or label set with no sample', () => {
    expect(metricValue(TEXT, 'rescind_cache_evictions_total')).toBeUndefined();
    expect(metricValue(TEXT, 'rescind_resyncs_total', { cause: 'store-reset' })).toBeUndefined();
    expect(metricValue(TEXT, 'rescind_resyncs')).toBeUndefined();
  });
});
