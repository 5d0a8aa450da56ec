import { type ViolationKind } from './checker';
import { type Schedule, type Step } from './schedule';
import { type RunOptions, runSchedule } from './simulation';

/** The result of shrinking a failing schedule. */
export interface ShrinkResult {
  readonly schedule: Schedule;
  /** Schedules run while shrinking. */
  readonly runs: number;
}

/** Whether `schedule` still breaks a promise of `kind` (any kind when undefined). */
async function fails(
  schedule: Schedule,
  kind: ViolationKind | undefined,
  options: RunOptions,
): Promise<boolean> {
  const { violations } = await runSchedule(schedule, options);
  return violations.some((v) => kind === undefined || v.kind === kind);
}

/**
 * Shrinks a failing schedule while it keeps failing the same way: delta debugging over its
 * steps (drop halves, quarters, … then single steps), then shorter pauses between steps. The
 * seed stays, so the deployment and every keyed latency and loss stay the same: a step removed
 * elsewhere rarely changes what happens to the others.
 */
export async function shrink(
  failing: Schedule,
  kind?: ViolationKind,
  options: RunOptions = {},
  maxRuns = 2000,
): Promise<ShrinkResult> {
  let runs = 0;
  const still = async (steps: readonly Step[]): Promise<boolean> => {
    if (runs >= maxRuns) return false;
    runs++;
    return fails({ seed: failing.seed, steps }, kind, options);
  };
  let steps = [...failing.steps];
  let parts = 2;
  while (steps.length >= 2) {
    const size = Math.ceil(steps.length / parts);
    let reduced = false;
    for (let start = 0; start < steps.length; start += size) {
      const without = [...steps.slice(0, start), ...steps.slice(start + size)];
      if (await still(without)) {
        steps = without;
        parts = Math.max(parts - 1, 2);
        reduced = true;
        break;
      }
    }
    if (!reduced) {
      if (size === 1) break;
      parts = Math.min(parts * 2, steps.length);
    }
  }
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i] as Step;
    for (const dt of [0, Math.floor(step.dt / 2)]) {
      if (dt >= step.dt) continue;
      const shorter = [...steps];
      shorter[i] = { ...step, dt };
      if (await still(shorter)) {
        steps = shorter;
        break;
      }
    }
  }
  return { schedule: { seed: failing.seed, steps }, runs };
}
