/** What one run of the scale simulation does; every figure is fixed by the flags, nothing random. */
export interface ScaleOptions {
  readonly quick: boolean;
  /** Simulated replicas of each row of the matrix. */
  readonly replicas: readonly number[];
  /** Revocations per second of each column of the matrix. */
  readonly rates: readonly number[];
  /** Longest a matrix cell writes for, in seconds. */
  readonly cellSeconds: number;
  /**
   * Deliveries (revocations × replicas) a cell is allowed: a cell whose product would exceed it
   * writes for less than {@link cellSeconds}, at least {@link minCellSeconds}.
   */
  readonly deliveryBudget: number;
  readonly minCellSeconds: number;
  /** Replicas of each reconnect storm, and the revocations/s flowing during them. */
  readonly stormReplicas: readonly number[];
  readonly stormRate: number;
  /** Replicas of the cold-start storm and revocations each hydrates. */
  readonly coldReplicas: number;
  readonly coldRevocations: number;
  /** Worker processes the simulated replicas are spread over. */
  readonly workers: number;
  /**
   * Full replicas of each matrix row; the rest of the row are wire subscribers (README, "Wire
   * subscribers"). `undefined`: every replica is a full one. Storms always use full replicas.
   */
  readonly fullReplicas: number | undefined;
  /** Parts to leave out. */
  readonly skip: ReadonlySet<ScalePart>;
  /** Where results.json and the charts go (the README embeds them from there). */
  readonly outDir: string;
}

export const SCALE_PARTS = ['matrix', 'storm', 'cold'] as const;
export type ScalePart = (typeof SCALE_PARTS)[number];

const USAGE = `usage: node dist/load-tests/scale/src/main.js [--quick] [--replicas 10,100,1000]
       [--rates 100,1000,10000] [--cell-seconds 10] [--delivery-budget 2000000]
       [--storm-replicas 10,100,1000] [--storm-rate 100] [--cold-replicas 16]
       [--cold-revocations 1000000] [--workers 2] [--full-replicas N] [--skip ${SCALE_PARTS.join(',')}] [--out <dir>]`;

const FULL = {
  replicas: [10, 100, 1000],
  rates: [100, 1000, 10_000],
  cellSeconds: 10,
  deliveryBudget: 2_000_000,
  minCellSeconds: 0.2,
  stormReplicas: [10, 100, 1000],
  stormRate: 100,
  coldReplicas: 16,
  coldRevocations: 1_000_000,
};

const QUICK: typeof FULL = {
  replicas: [10, 100],
  rates: [100, 1000],
  cellSeconds: 2,
  deliveryBudget: 200_000,
  minCellSeconds: 0.2,
  stormReplicas: [10, 100],
  stormRate: 100,
  coldReplicas: 4,
  coldRevocations: 100_000,
};

const KNOWN = new Set([
  '--replicas',
  '--rates',
  '--cell-seconds',
  '--delivery-budget',
  '--storm-replicas',
  '--storm-rate',
  '--cold-replicas',
  '--cold-revocations',
  '--workers',
  '--full-replicas',
  '--skip',
  '--out',
]);

/** Parses `argv` (without node and the script); throws with the usage on anything wrong. */
export function parseScaleOptions(argv: readonly string[], defaultOutDir: string): ScaleOptions {
  const values = new Map<string, string>();
  let quick = false;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i] as string;
    if (flag === '--quick') quick = true;
    else if (flag === '--help' || flag === '-h') throw new Error(USAGE);
    else if (!KNOWN.has(flag) || argv[i + 1] === undefined) {
      throw new Error(`bad or unknown option ${flag}\n${USAGE}`);
    } else values.set(flag, argv[++i] as string);
  }
  const base = quick ? QUICK : FULL;
  const number = (flag: string, fallback: number, least: number, most: number): number => {
    const text = values.get(flag);
    const value = text === undefined ? fallback : Number(text);
    if (text?.trim() === '' || !Number.isFinite(value) || value < least || value > most) {
      throw new Error(`${flag} must be a number from ${least} to ${most}, got "${text}"\n${USAGE}`);
    }
    return value;
  };
  const integers = (flag: string, fallback: readonly number[], least: number, most: number) => {
    const text = values.get(flag);
    if (text === undefined) return fallback;
    const list = text.split(',').map((item) => Number(item));
    if (list.some((n) => !Number.isInteger(n) || n < least || n > most)) {
      throw new Error(
        `${flag} must be a comma-separated list of integers from ${least} to ${most}, got "${text}"\n${USAGE}`,
      );
    }
    return list;
  };
  const skipText = values.get('--skip');
  const skip = new Set<ScalePart>();
  if (skipText !== undefined) {
    for (const part of skipText.split(',')) {
      if (!(SCALE_PARTS as readonly string[]).includes(part)) {
        throw new Error(`--skip takes ${SCALE_PARTS.join(', ')}, got "${part}"\n${USAGE}`);
      }
      skip.add(part as ScalePart);
    }
  }
  const minCellSeconds = base.minCellSeconds;
  return {
    quick,
    replicas: integers('--replicas', base.replicas, 1, 10_000),
    rates: integers('--rates', base.rates, 1, 100_000),
    cellSeconds: number('--cell-seconds', base.cellSeconds, minCellSeconds, 600),
    deliveryBudget: Math.round(number('--delivery-budget', base.deliveryBudget, 1, 1e10)),
    minCellSeconds,
    stormReplicas: integers('--storm-replicas', base.stormReplicas, 1, 10_000),
    stormRate: Math.round(number('--storm-rate', base.stormRate, 1, 100_000)),
    coldReplicas: Math.round(number('--cold-replicas', base.coldReplicas, 1, 1000)),
    coldRevocations: Math.round(number('--cold-revocations', base.coldRevocations, 1, 10_000_000)),
    workers: Math.round(number('--workers', 2, 1, 64)),
    fullReplicas: values.has('--full-replicas')
      ? Math.round(number('--full-replicas', 0, 0, 10_000))
      : undefined,
    skip,
    outDir: values.get('--out') ?? defaultOutDir,
  };
}

/**
 * How long a cell writes: `cellSeconds`, shortened so that revocations × replicas stays within
 * the delivery budget, but never under `minCellSeconds`.
 */
export function cellSeconds(options: ScaleOptions, replicas: number, rate: number): number {
  const budgeted = options.deliveryBudget / (replicas * rate);
  return Math.max(options.minCellSeconds, Math.min(options.cellSeconds, budgeted));
}

/**
 * Entries each simulated replica's cache is sized for: every revocation the run writes to that
 * pool (its matrix row, or its storm), plus a margin, so that nothing is evicted. Not the
 * product's default (a million): the LRU preallocates its slots, and a thousand replicas of a
 * million slots in two processes would measure the garbage collector, not the replicas.
 */
export function poolCacheEntries(options: ScaleOptions, replicas: number): number {
  const matrix = options.rates.reduce(
    (total, rate) => total + Math.ceil(rate * cellSeconds(options, replicas, rate)) + 1,
    0,
  );
  const storm = options.stormRate * STORM_SECONDS_MAX;
  return Math.max(matrix, storm) + 1000;
}

/** Longest a reconnect storm writes for, in seconds (8 in a full run, 4 in a quick one). */
export const STORM_SECONDS_MAX = 8;
