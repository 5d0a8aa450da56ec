import { type Milliseconds } from '@rescind/revocation-core';
import { Prng } from './prng';

/** One step of a regions schedule (region, link and bridge numbers are taken modulo their count). */
export type RegionAction =
  | { readonly k: 'login'; readonly r: number; readonly u: number }
  | { readonly k: 'logout'; readonly r: number; readonly t: number }
  | { readonly k: 'logoutAll'; readonly r: number; readonly t: number }
  | { readonly k: 'cut'; readonly l: number }
  | { readonly k: 'heal'; readonly l: number }
  | { readonly k: 'bridgeCrash'; readonly b: number }
  /** SIGKILL mid-round: the bridge dies right after its `calls`-th next call to its own store. */
  | { readonly k: 'bridgeCrashMid'; readonly b: number; readonly calls: number }
  | { readonly k: 'bridgeStart'; readonly b: number }
  | { readonly k: 'storeDown'; readonly r: number; readonly ms: Milliseconds }
  | { readonly k: 'storeLost'; readonly r: number; readonly ms: Milliseconds }
  | { readonly k: 'trim'; readonly r: number; readonly n: number };

/** The kind of a step. */
export type RegionActionKind = RegionAction['k'];

/** A step: wait `dt`, then act. */
export interface RegionStep {
  readonly dt: Milliseconds;
  readonly a: RegionAction;
}

/** A seeded schedule of steps; the seed also draws the deployment (regions, links, batch). */
export interface RegionSchedule {
  readonly seed: number;
  readonly steps: readonly RegionStep[];
}

/** The deployment a seed draws. */
export interface RegionConfig {
  /** 2 or 3 regions. */
  readonly regions: number;
  /** One-way delay of each link (one per pair of regions, in pair order). */
  readonly linkDelayMs: readonly Milliseconds[];
  /** A bridge's `batchSize`: small, so that following a log takes several rounds. */
  readonly batchSize: number;
  /** One round trip to a region's own store. */
  readonly localMs: Milliseconds;
  /** How long a token lives. */
  readonly tokenTtlMs: Milliseconds;
  /** `CLOCK_SKEW_MS`: the not-before margin of a store that lost its data. */
  readonly clockSkewMs: Milliseconds;
}

/** Seeds of regions schedules are drawn apart from those of one region. */
const REGION_SALT = 0x5e91_0a15;

/** The deployment of `seed`. */
export function drawRegionConfig(seed: number): RegionConfig {
  const prng = new Prng(seed ^ REGION_SALT);
  const regions = prng.between(2, 3);
  const links = (regions * (regions - 1)) / 2;
  return {
    regions,
    linkDelayMs: Array.from({ length: links }, () => prng.between(5, 80)),
    batchSize: prng.between(2, 8),
    localMs: prng.between(1, 3),
    tokenTtlMs: prng.between(20_000, 40_000),
    clockSkewMs: prng.pick([50, 100, 250]),
  };
}

const WEIGHTS: Readonly<Record<RegionActionKind, number>> = {
  login: 18,
  logout: 14,
  logoutAll: 6,
  cut: 5,
  heal: 5,
  bridgeCrash: 4,
  bridgeCrashMid: 3,
  bridgeStart: 5,
  storeDown: 2,
  storeLost: 2,
  trim: 4,
};

/** The schedule of `seed`, without the kinds in `without`. */
export function generateRegionSchedule(
  seed: number,
  without: readonly RegionActionKind[] = [],
): RegionSchedule {
  const prng = new Prng(seed ^ (REGION_SALT + 1));
  const weights = { ...WEIGHTS };
  for (const kind of without) weights[kind] = 0;
  const steps: RegionStep[] = [];
  const count = prng.between(20, 50);
  for (let i = 0; i < count; i++) {
    const dt = prng.chance(0.3) ? 0 : prng.between(1, 250);
    const k = prng.weighted(weights);
    const r = prng.int(3);
    const a: RegionAction =
      k === 'login'
        ? { k, r, u: prng.int(4) }
        : k === 'logout' || k === 'logoutAll'
          ? { k, r, t: prng.int(64) }
          : k === 'cut' || k === 'heal'
            ? { k, l: prng.int(3) }
            : k === 'bridgeCrash' || k === 'bridgeStart'
              ? { k, b: prng.int(6) }
              : k === 'bridgeCrashMid'
                ? { k, b: prng.int(6), calls: prng.between(1, 6) }
                : k === 'trim'
                  ? { k, r, n: prng.between(1, 6) }
                  : { k, r, ms: prng.between(10, 400) };
    steps.push({ dt, a });
  }
  return { seed, steps };
}

/** A step in a few words, for traces and shrunk schedules. */
export function formatRegionAction(a: RegionAction): string {
  return Object.entries(a)
    .map(([key, value]) => (key === 'k' ? String(value) : `${key}=${String(value)}`))
    .join(' ');
}
