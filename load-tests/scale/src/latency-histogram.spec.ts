import { LatencyHistogram } from './latency-histogram';

describe('LatencyHistogram', () => {
  it('gives nothing when empty', () => {
    expect(new LatencyHistogram().percentiles()).toEqual({
      count: 0,
      p50Ms: null,
      p99Ms: null,
      maxMs: null,
    });
  });

  it('puts quantiles on the upper edge of their bucket, never above the maximum', () => {
    const histogram = new LatencyHistogram();
    for (let i = 1; i <= 100; i++) histogram.record(i / 10); // 0.1 … 10 ms
    expect(histogram.quantile(0.5)).toBeCloseTo(5.1, 5);
    expect(histogram.quantile(0.99)).toBeCloseTo(10, 5);
    expect(histogram.percentiles().maxMs).toBe(10);
  });

  it('keeps 1 ms resolution above 100 ms and clamps beyond 60 s', () => {
    const histogram = new LatencyHistogram();
    histogram.record(250.4);
    histogram.record(120_000);
    expect(histogram.quantile(0.5)).toBe(251);
    expect(histogram.quantile(1)).toBe(120_000);
  });

  it('merges snapshots into the percentiles of all samples together', () => {
    const a = new LatencyHistogram();
    const b = new LatencyHistogram();
    const all = new LatencyHistogram();
    for (let i = 0; i < 1000; i++) {
      const value = (i * 7919) % 300;
      (i % 2 === 0 ? a : b).record(value);
      all.record(value);
    }
    const merged = new LatencyHistogram();
    merged.merge(a.snapshot());
    merged.merge(b.snapshot());
    expect(merged.percentiles()).toEqual(all.percentiles());
  });

  it('refuses a bucket out of range and a quantile outside (0, 1]', () => {
    expect(() => new LatencyHistogram().merge({ counts: [[-1, 1]], maxMs: 0 })).toThrow(RangeError);
    expect(() => new LatencyHistogram().quantile(0)).toThrow(RangeError);
  });
});
