import { setTimeout as sleep } from 'node:timers/promises';

/** Options of {@link waitUntil}. */
export interface WaitUntilOptions {
  /** Give up after this long. */
  readonly timeoutMs: number;
  /** Pause between attempts; 0 polls back to back. @default 10 */
  readonly intervalMs?: number;
  /** What is awaited, as it should read in "timed out waiting for …". */
  readonly description: string;
}

/**
 * Polls `probe` until it returns a truthy value and returns that value. A throwing probe counts
 * as "not yet"; the last value or error is named on timeout. Tests wait on conditions, never on
 * fixed sleeps.
 */
export async function waitUntil<T>(
  probe: () => T | Promise<T>,
  { timeoutMs, intervalMs = 10, description }: WaitUntilOptions,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no attempt finished';
  for (;;) {
    try {
      const value = await probe();
      if (value) return value as NonNullable<T>;
      last = `last value: ${JSON.stringify(value)}`;
    } catch (error) {
      last = `last error: ${error instanceof Error ? error.message : String(error)}`;
    }
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${description} (${last})`);
    }
    await (intervalMs > 0 ? sleep(intervalMs) : new Promise((resolve) => setImmediate(resolve)));
  }
}
