import { type Milliseconds } from './units';

/** Wall-clock source, injectable so that tests can move time. */
export interface Clock {
  /** Current wall-clock time. */
  now(): Milliseconds;
}

/** The system clock. All replicas on one host share it, which keeps cut-offs exact there. */
export const systemClock: Clock = { now: () => Date.now() };
