/** Bounds of a {@link Bulkhead}. */
export interface BulkheadOptions {
  /** Tasks running at once. */
  readonly maxConcurrent: number;
  /** Tasks waiting for a slot; one more is refused at once. */
  readonly maxQueue: number;
  /**
   * Longest a task may wait for a slot: one still waiting then is refused, and one whose wait
   * would exceed it (by the running average of recent tasks) is refused at once.
   */
  readonly maxWaitMs: number;
}

/** Why a {@link Bulkhead} refused a task. */
export type BulkheadRefusal = 'queue-full' | 'wait-too-long' | 'waited-too-long';

/** A task the {@link Bulkhead} did not run: nothing of it was started. */
export class BulkheadRefusedError extends Error {
  constructor(readonly reason: BulkheadRefusal) {
    super(`bulkhead full (${reason})`);
    this.name = 'BulkheadRefusedError';
  }
}

interface Waiter {
  readonly start: () => void;
  readonly timer: NodeJS.Timeout;
}

/** Weight of the newest task in the running average of task durations. */
const AVERAGE_WEIGHT = 0.2;

/**
 * At most `maxConcurrent` tasks at once, a short FIFO queue behind them, and a fast refusal
 * beyond it ({@link BulkheadRefusedError}), so that a flood of expensive tasks costs each caller
 * a bounded wait and the process a bounded amount of work (docs/design.md, "Login bulkhead").
 */
export class Bulkhead {
  private active = 0;
  private readonly queue: Waiter[] = [];
  /** Running average of task durations in ms; undefined until one finished. */
  private averageMs: number | undefined;

  constructor(readonly options: BulkheadOptions) {
    for (const [name, value] of Object.entries(options)) {
      if (!Number.isSafeInteger(value) || value < (name === 'maxConcurrent' ? 1 : 0)) {
        throw new RangeError(`Bulkhead ${name} must be a non-negative integer, got ${value}`);
      }
    }
  }

  /** Tasks running now. */
  get running(): number {
    return this.active;
  }

  /** Tasks waiting for a slot now. */
  get waiting(): number {
    return this.queue.length;
  }

  /**
   * Runs `task` once a slot is free, and frees the slot however it ends.
   * @throws BulkheadRefusedError without calling `task` when the queue is full, when the wait
   *   would exceed `maxWaitMs`, or when it did
   */
  async run<T>(task: () => Promise<T>): Promise<T> {
    await this.acquire();
    const startedAt = performance.now();
    try {
      return await task();
    } finally {
      this.record(performance.now() - startedAt);
      this.release();
    }
  }

  /**
   * Why a task submitted now would be refused at once, or `undefined` when it would run or
   * wait: lets a caller refuse before spending anything on work that would lead to the task.
   */
  refusalNow(): BulkheadRefusal | undefined {
    const { maxConcurrent, maxQueue, maxWaitMs } = this.options;
    if (this.active < maxConcurrent && this.queue.length === 0) return undefined;
    if (this.queue.length >= maxQueue) return 'queue-full';
    // Ahead of this task: the queue, then a slot: the rounds of `maxConcurrent` tasks it waits.
    const rounds = Math.floor(this.queue.length / maxConcurrent) + 1;
    if (this.averageMs !== undefined && rounds * this.averageMs > maxWaitMs) {
      return 'wait-too-long';
    }
    return undefined;
  }

  private acquire(): Promise<void> {
    const { maxConcurrent, maxWaitMs } = this.options;
    if (this.active < maxConcurrent && this.queue.length === 0) {
      this.active++;
      return Promise.resolve();
    }
    const refusal = this.refusalNow();
    if (refusal !== undefined) return Promise.reject(new BulkheadRefusedError(refusal));
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        start: resolve,
        timer: setTimeout(() => {
          const index = this.queue.indexOf(waiter);
          if (index >= 0) this.queue.splice(index, 1);
          reject(new BulkheadRefusedError('waited-too-long'));
        }, maxWaitMs),
      };
      this.queue.push(waiter);
    });
  }

  private release(): void {
    const next = this.queue.shift();
    if (next === undefined) {
      this.active--;
      return;
    }
    // The slot passes straight to the next task: `active` stays as it is.
    clearTimeout(next.timer);
    next.start();
  }

  private record(durationMs: number): void {
    this.averageMs =
      this.averageMs === undefined
        ? durationMs
        : this.averageMs + AVERAGE_WEIGHT * (durationMs - this.averageMs);
  }
}
