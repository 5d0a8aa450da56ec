import { performance } from 'node:perf_hooks';

/**
 * Milliseconds since the epoch, from the monotonic clock anchored at this process's start: every
 * timestamp of a history comes from here, so orderings within one run never go backwards even if
 * the wall clock is stepped.
 */
export function historyNow(): number {
  return performance.timeOrigin + performance.now();
}
