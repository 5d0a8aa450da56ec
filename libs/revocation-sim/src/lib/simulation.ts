import { type KnownFinding, type Violation } from './checker';
import { type ActionKind, generateSchedule, type Schedule } from './schedule';
import { drawConfig } from './sim-config';
import { World } from './world';

/** The outcome of one schedule. */
export interface ScheduleOutcome {
  readonly schedule: Schedule;
  readonly violations: readonly Violation[];
  /** Violations of known cause (see checker.ts, KnownFinding). */
  readonly known: readonly Violation[];
  /** Hash of every event run: two runs of one schedule have the same. */
  readonly fingerprint: number;
  /** The run's trace, when asked for. */
  readonly trace?: readonly string[];
}

/** How to run a schedule. */
export interface RunOptions {
  /** Record a trace of every step, store call, message and resync. */
  readonly trace?: boolean;
  /** Logins reach replicas that are not ready (finding B; off: through the load balancer). */
  readonly loginsAnywhere?: boolean;
  /** Kinds of step generated schedules leave out (to single out one way to fail). */
  readonly without?: readonly ActionKind[];
  /** Known findings that count as violations (to find, shrink and replay one). */
  readonly findings?: readonly KnownFinding[];
}

/** Runs one schedule and returns what the checker saw. */
export async function runSchedule(
  schedule: Schedule,
  options: RunOptions = {},
): Promise<ScheduleOutcome> {
  const world = new World(schedule.seed, drawConfig(schedule.seed), undefined, options.findings);
  world.tracing = options.trace === true;
  world.loginsAnywhere = options.loginsAnywhere === true;
  const { violations, known } = await world.run(schedule, !world.tracing);
  return {
    schedule,
    violations,
    known,
    fingerprint: world.fingerprint,
    ...(world.tracing ? { trace: world.traceLines } : {}),
  };
}

/** The schedule a seed generates. */
export function scheduleOf(seed: number, without: readonly ActionKind[] = []): Schedule {
  return generateSchedule(seed, drawConfig(seed), without);
}

/** Runs the schedule of `seed`. */
export function runSeed(seed: number, options: RunOptions = {}): Promise<ScheduleOutcome> {
  return runSchedule(scheduleOf(seed, options.without), options);
}
