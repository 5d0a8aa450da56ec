/** What a cell contributes to the capacity model. */
export interface CapacitySample {
  readonly replicas: number;
  readonly rate: number;
  readonly written: number;
  readonly redisCpuSeconds: number;
  readonly netOutputBytes: number;
  readonly lost: number;
}

/** How much one Redis primary carries, from the measured cost per delivered message. */
export interface CapacityModel {
  /** Median Redis CPU per delivered message (one revocation to one replica), µs. */
  readonly cpuUsPerDelivery: number;
  /** Median network bytes per delivered message. */
  readonly bytesPerDelivery: number;
  /** Deliveries per second one Redis core carries at `utilisation`. */
  readonly deliveriesPerSecond: number;
  /** The same, bounded by `networkBytesPerSecond` of egress. */
  readonly deliveriesPerSecondByNetwork: number;
  readonly utilisation: number;
}

/**
 * Fits `cost = deliveries × per-delivery cost` to the cells that moved enough messages for the
 * replicas' fixed costs (anti-entropy ticks, the probes) to weigh little (≥ `minDeliveries`) and
 * lost nothing: the median of their ratios, robust to one noisy cell.
 * Redis runs commands on one thread, so one core is the budget; `utilisation` leaves headroom
 * for writes, catch-ups and bursts.
 */
export function fitCapacity(
  samples: readonly CapacitySample[],
  options: { utilisation?: number; networkBytesPerSecond?: number; minDeliveries?: number } = {},
): CapacityModel | undefined {
  const { utilisation = 0.7, networkBytesPerSecond = 1.25e9, minDeliveries = 500_000 } = options;
  const usable = samples.filter((s) => s.lost === 0 && s.written * s.replicas >= minDeliveries);
  if (usable.length === 0) return undefined;
  const cpu = median(usable.map((s) => (s.redisCpuSeconds * 1e6) / (s.written * s.replicas)));
  const bytes = median(usable.map((s) => s.netOutputBytes / (s.written * s.replicas)));
  return {
    cpuUsPerDelivery: cpu,
    bytesPerDelivery: bytes,
    deliveriesPerSecond: cpu > 0 ? (utilisation * 1e6) / cpu : Number.POSITIVE_INFINITY,
    deliveriesPerSecondByNetwork:
      bytes > 0 ? networkBytesPerSecond / bytes : Number.POSITIVE_INFINITY,
    utilisation,
  };
}

/** Revocations per second a primary carries for `replicas` subscribers under the model. */
export function maxRate(model: CapacityModel, replicas: number): number {
  return Math.min(model.deliveriesPerSecond, model.deliveriesPerSecondByNetwork) / replicas;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of nothing');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}
