import { type Milliseconds } from '@rescind/revocation-core';
import { type BridgeDefect } from './bridge-model';
import {
  drawRegionConfig,
  generateRegionSchedule,
  type RegionActionKind,
  type RegionSchedule,
} from './region-schedule';
import { RegionWorld, type RegionViolation, type RegionViolationKind } from './region-world';
import { shrinkSteps } from './shrink';

/** The outcome of one regions schedule. */
export interface RegionOutcome {
  readonly schedule: RegionSchedule;
  readonly violations: readonly RegionViolation[];
  readonly fingerprint: number;
  /** From the end of the faults until every bridge had caught up; undefined if they did not. */
  readonly convergenceMs: Milliseconds | undefined;
  readonly trace?: readonly string[];
}

/** How to run a regions schedule. */
export interface RegionRunOptions {
  /** Defects the bridges are switched into (to prove the checker fails). */
  readonly defects?: readonly BridgeDefect[];
  /** Kinds of step generated schedules leave out. */
  readonly without?: readonly RegionActionKind[];
  readonly trace?: boolean;
}

/** Runs one regions schedule. */
export function runRegionSchedule(
  schedule: RegionSchedule,
  options: RegionRunOptions = {},
): RegionOutcome {
  const world = new RegionWorld(drawRegionConfig(schedule.seed), options.defects);
  world.tracing = options.trace === true;
  const violations = world.run(schedule);
  return {
    schedule,
    violations,
    fingerprint: world.fingerprint,
    convergenceMs: world.convergenceMs,
    ...(world.tracing ? { trace: world.traceLines } : {}),
  };
}

/** Runs the regions schedule of `seed`. */
export function runRegionSeed(seed: number, options: RegionRunOptions = {}): RegionOutcome {
  return runRegionSchedule(generateRegionSchedule(seed, options.without), options);
}

/** A batch of regions schedules: failures and convergence figures. */
export interface RegionBatchReport {
  readonly schedules: number;
  readonly failures: readonly RegionOutcome[];
  /** Convergence times, in ms: median, 99th percentile, maximum. */
  readonly convergence: { readonly p50: number; readonly p99: number; readonly max: number };
  readonly elapsedMs: number;
}

/** Runs seeds `from` … `from + count - 1` (stopping at the first failure when asked). */
export function runRegionBatch(
  from: number,
  count: number,
  options: RegionRunOptions & { readonly stopOnFailure?: boolean } = {},
): RegionBatchReport {
  const started = performance.now();
  const failures: RegionOutcome[] = [];
  const times: number[] = [];
  let schedules = 0;
  for (let seed = from; seed < from + count; seed++) {
    const outcome = runRegionSeed(seed, options);
    schedules++;
    if (outcome.convergenceMs !== undefined) times.push(outcome.convergenceMs);
    if (outcome.violations.length > 0) {
      failures.push(outcome);
      if (options.stopOnFailure === true) break;
    }
  }
  times.sort((a, b) => a - b);
  const at = (q: number): number =>
    times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? 0;
  return {
    schedules,
    failures,
    convergence: { p50: at(0.5), p99: at(0.99), max: times[times.length - 1] ?? 0 },
    elapsedMs: performance.now() - started,
  };
}

/** Shrinks a failing regions schedule while it fails with the same kind of violation. */
export async function shrinkRegionSchedule(
  failing: RegionSchedule,
  kind: RegionViolationKind,
  options: RegionRunOptions = {},
): Promise<{ schedule: RegionSchedule; runs: number }> {
  const { steps, runs } = await shrinkSteps(failing.steps, (steps) =>
    runRegionSchedule({ seed: failing.seed, steps }, options).violations.some(
      (v) => v.kind === kind,
    ),
  );
  return { schedule: { seed: failing.seed, steps }, runs };
}
