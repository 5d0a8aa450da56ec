import { type ViolationKind } from './checker';
import { type Schedule } from './schedule';
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
  const { steps, runs } = await shrinkSteps(
    failing.steps,
    (steps) => fails({ seed: failing.seed, steps }, kind, options),
    maxRuns,
  );
  return { schedule: { seed: failing.seed, steps }, runs };
}

/**
 * Delta debugging over any schedule's steps while `still` holds (drop halves, quarters, … then
 * single steps), then shorter pauses between steps.
 */
export async function shrinkSteps<S extends { readonly dt: number }>(
  failing: readonly S[],
  still: (steps: readonly S[]) => boolean | Promise<boolean>,
  maxRuns = 2000,
): Promise<{ steps: S[]; runs: number }> {
  let runs = 0;
  const fails = async (steps: readonly S[]): Promise<boolean> => {
    if (runs >= maxRuns) return false;
    runs++;
    return still(steps);
  };
  let steps = [...failing];
  let parts = 2;
  while (steps.length >= 2) {
    const size = Math.ceil(steps.length / parts);
    let reduced = false;
    for (let start = 0; start < steps.length; start += size) {
      const without = [...steps.slice(0, start), ...steps.slice(start + size)];
      if (await fails(without)) {
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
    const step = steps[i] as S;
    for (const dt of [0, Math.floor(step.dt / 2)]) {
      if (dt >= step.dt) continue;
      const shorter = [...steps];
      shorter[i] = { ...step, dt };
      if (await fails(shorter)) {
        steps = shorter;
        break;
      }
    }
  }
  return { steps, runs };
}
