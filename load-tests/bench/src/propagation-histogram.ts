/** Cumulative bucket counts of `rescind_propagation_seconds`, by upper bound in seconds. */
export type BucketCounts = Map<number, number>;

/** Reads a replica's `rescind_propagation_seconds` buckets from `/metrics`. */
export async function readPropagationBuckets(baseUrl: string): Promise<BucketCounts> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const buckets: BucketCounts = new Map();
  for (const match of text.matchAll(
    /^rescind_propagation_seconds_bucket\{[^}]*le="([^"]+)"[^}]*\} (\d+)/gm,
  )) {
    const le = match[1] === '+Inf' ? Infinity : Number(match[1]);
    buckets.set(le, (buckets.get(le) ?? 0) + Number(match[2]));
  }
  return buckets;
}

/** Sums several replicas' bucket counts. */
export function addBuckets(all: readonly BucketCounts[]): BucketCounts {
  const sum: BucketCounts = new Map();
  for (const buckets of all) {
    for (const [le, count] of buckets) sum.set(le, (sum.get(le) ?? 0) + count);
  }
  return sum;
}

/** `after - before`, bucket by bucket. */
export function subtractBuckets(after: BucketCounts, before: BucketCounts): BucketCounts {
  return new Map([...after].map(([le, count]) => [le, count - (before.get(le) ?? 0)]));
}

/** The smallest bucket bound (in ms) holding at least fraction `q` of the observations. */
export function bucketQuantileMs(buckets: BucketCounts, q: number): number {
  const bounds = [...buckets.keys()].sort((a, b) => a - b);
  const total = buckets.get(Infinity) ?? 0;
  if (total === 0) return NaN;
  for (const le of bounds) if ((buckets.get(le) ?? 0) >= q * total) return le * 1000;
  return Infinity;
}

/** Observations counted. */
export function bucketTotal(buckets: BucketCounts): number {
  return buckets.get(Infinity) ?? 0;
}
