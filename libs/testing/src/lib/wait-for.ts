import { setTimeout as sleep } from 'node:timers/promises';
import { HarnessError } from './harness.error';

/** Options for {@link waitFor}. */
export interface WaitForOptions {
  /** Give up after this long; the error names `description` and the last value or error. */
  timeoutMs: number;
  /** Pause between attempts; 0 polls back to back (yielding to the event loop only). @default 20 */
  intervalMs?: number;
  /** What is awaited, as it should read in "timed out waiting for …". */
  description: string;
  /** Stops waiting at once, rejecting with the signal's reason (e.g. when the awaited process died). */
  signal?: AbortSignal;
}

type Falsy = undefined | null | false;

/**
 * Polls `predicate` until it returns (or resolves to) a truthy value and returns that value.
 * A throwing predicate counts as "not yet"; its last error is reported on timeout.
 */
export async function waitFor<T>(
  predicate: () => Promise<T | Falsy> | T | Falsy,
  options: WaitForOptions,
): Promise<T> {
  const { timeoutMs, intervalMs = 20, description, signal } = options;
  const deadline = Date.now() + timeoutMs;
  let last = 'no attempt finished';
  for (;;) {
    signal?.throwIfAborted();
    try {
      const value = await beforeDeadline(predicate, deadline);
      if (value) return value;
      last = `last value: ${String(value)}`;
    } catch (error) {
      signal?.throwIfAborted();
      if (error !== DEADLINE)
        last = `last error: ${error instanceof Error ? error.message : error}`;
    }
    const remainingMs = deadline - Date.now();
    if (remainingMs <= 0) {
      throw new HarnessError(
        'ERR_WAIT_TIMEOUT',
        `timed out after ${timeoutMs} ms waiting for ${description} (${last})`,
      );
    }
    try {
      if (intervalMs > 0) await sleep(Math.min(intervalMs, remainingMs), undefined, { signal });
      else await new Promise((resolve) => setImmediate(resolve));
    } catch (error) {
      signal?.throwIfAborted();
      throw error;
    }
  }
}

const DEADLINE = Symbol('deadline');

// A predicate that hangs must not stretch the wait beyond its timeout.
async function beforeDeadline<T>(predicate: () => Promise<T> | T, deadline: number): Promise<T> {
  const attempt = Promise.resolve().then(predicate);
  attempt.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(DEADLINE), Math.max(0, deadline - Date.now()));
  });
  try {
    return await Promise.race([attempt, expired]);
  } finally {
    clearTimeout(timer);
  }
}
