/**
 * A mergeable latency histogram: 0.1 ms buckets up to 100 ms, 1 ms buckets up to 60 s (beyond
 * that, the last bucket). Fixed buckets, so that worker processes merge theirs by adding counts
 * and the percentiles of the merge are those of every sample together.
 */
const FINE_LIMIT_MS = 100;
const FINE_STEP_MS = 0.1;
const COARSE_LIMIT_MS = 60_000;
const FINE_BUCKETS = Math.round(FINE_LIMIT_MS / FINE_STEP_MS);
const BUCKETS = FINE_BUCKETS + (COARSE_LIMIT_MS - FINE_LIMIT_MS);

/** A histogram as sent between processes: `[bucket, count]` pairs and the exact maximum. */
export interface HistogramSnapshot {
  readonly counts: readonly (readonly [number, number])[];
  readonly maxMs: number;
}

/** Percentiles of a histogram; `null` when it holds no sample. */
export interface LatencyPercentiles {
  readonly count: number;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  readonly maxMs: number | null;
}

export class LatencyHistogram {
  private readonly buckets = new Uint32Array(BUCKETS);
  private total = 0;
  private max = 0;

  get count(): number {
    return this.total;
  }

  record(latencyMs: number): void {
    const value = Math.max(0, latencyMs);
    this.buckets[bucketOf(value)]++;
    this.total++;
    if (value > this.max) this.max = value;
  }

  snapshot(): HistogramSnapshot {
    const counts: [number, number][] = [];
    this.buckets.forEach((count, bucket) => {
      if (count > 0) counts.push([bucket, count]);
    });
    return { counts, maxMs: this.max };
  }

  merge(snapshot: HistogramSnapshot): void {
    for (const [bucket, count] of snapshot.counts) {
      if (!Number.isInteger(bucket) || bucket < 0 || bucket >= BUCKETS) {
        throw new RangeError(`histogram bucket ${bucket} out of range`);
      }
      this.buckets[bucket] = (this.buckets[bucket] as number) + count;
      this.total += count;
    }
    if (snapshot.maxMs > this.max) this.max = snapshot.maxMs;
  }

  /**
   * The `q`-quantile (0 < q ≤ 1): the upper edge of the bucket holding the ⌈q·n⌉-th smallest
   * sample, never above the exact maximum. `null` when empty.
   */
  quantile(q: number): number | null {
    if (!(q > 0 && q <= 1)) throw new RangeError(`quantile must be in (0, 1], got ${q}`);
    if (this.total === 0) return null;
    const rank = Math.ceil(q * this.total);
    let seen = 0;
    for (let bucket = 0; bucket < BUCKETS; bucket++) {
      seen += this.buckets[bucket] as number;
      // The last bucket holds everything beyond its edge: only the maximum bounds it.
      if (seen >= rank)
        return bucket === BUCKETS - 1 ? this.max : Math.min(upperEdgeOf(bucket), this.max);
    }
    return this.max;
  }

  percentiles(): LatencyPercentiles {
    return {
      count: this.total,
      p50Ms: this.quantile(0.5),
      p99Ms: this.quantile(0.99),
      maxMs: this.total === 0 ? null : this.max,
    };
  }
}

function bucketOf(valueMs: number): number {
  if (valueMs < FINE_LIMIT_MS) return Math.floor(valueMs / FINE_STEP_MS);
  return Math.min(BUCKETS - 1, FINE_BUCKETS + Math.floor(valueMs - FINE_LIMIT_MS));
}

function upperEdgeOf(bucket: number): number {
  if (bucket < FINE_BUCKETS) return Math.round((bucket + 1) * FINE_STEP_MS * 10) / 10;
  return FINE_LIMIT_MS + (bucket - FINE_BUCKETS) + 1;
}
