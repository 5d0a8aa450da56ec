import { type Violation } from './checker';
import { type RunOptions, runSeed } from './simulation';

/** A seed whose schedule broke a promise. */
export interface FailedSeed {
  readonly seed: number;
  readonly violations: readonly Violation[];
}

/** What running a batch of seeds found. */
export interface BatchReport {
  /** Schedules run. */
  readonly schedules: number;
  readonly failures: FailedSeed[];
  /** Seeds whose violations all have a known cause, by finding. */
  readonly known: Record<string, number[]>;
}

/** Runs the schedules of `seeds`, in order, on this thread. */
export async function runBatch(
  seeds: readonly number[],
  options: RunOptions = {},
): Promise<BatchReport> {
  const failures: FailedSeed[] = [];
  const known: Record<string, number[]> = {};
  for (const seed of seeds) {
    const outcome = await runSeed(seed, options);
    if (outcome.violations.length > 0) {
      failures.push({ seed, violations: outcome.violations });
    }
    for (const finding of new Set(outcome.known.map((v) => v.finding as string))) {
      (known[finding] ??= []).push(seed);
    }
  }
  return { schedules: seeds.length, failures, known };
}
