import { Bulkhead, BulkheadRefusedError, type BulkheadOptions } from './bulkhead';

/** A task the test finishes by hand: `finish()` or `fail()`. */
interface Gate {
  readonly task: () => Promise<string>;
  readonly started: () => boolean;
  finish(value?: string): void;
  fail(error: Error): void;
}

function gate(): Gate {
  let started = false;
  let finish: (value: string) => void = () => undefined;
  let fail: (error: Error) => void = () => undefined;
  const done = new Promise<string>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  return {
    task: () => {
      started = true;
      return done;
    },
    started: () => started,
    finish: (value = 'done') => finish(value),
    fail: (error) => fail(error),
  };
}

/** Lets every settled promise's callbacks run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

const refusal = (reason: string): BulkheadRefusedError =>
  expect.objectContaining({ name: 'BulkheadRefusedError', reason }) as BulkheadRefusedError;

function bulkhead(options: Partial<BulkheadOptions> = {}): Bulkhead {
  return new Bulkhead({ maxConcurrent: 2, maxQueue: 2, maxWaitMs: 60_000, ...options });
}

describe('Bulkhead', () => {
  it('runs at most maxConcurrent tasks at once and starts the queued ones in order as slots free', async () => {
    const limit = bulkhead({ maxConcurrent: 2, maxQueue: 3 });
    const gates = Array.from({ length: 5 }, gate);
    const runs = gates.map((g) => limit.run(g.task));
    await settle();
    expect(gates.map((g) => g.started())).toEqual([true, true, false, false, false]);
    expect([limit.running, limit.waiting]).toEqual([2, 3]);

    gates[1]?.finish('b');
    await expect(runs[1]).resolves.toBe('b');
    await settle();
    expect(gates.map((g) => g.started())).toEqual([true, true, true, false, false]);
    expect([limit.running, limit.waiting]).toEqual([2, 2]);

    for (const g of gates) g.finish();
    await Promise.all(runs);
    expect([limit.running, limit.waiting]).toEqual([0, 0]);
  });

  it('refuses at once, without calling the task, beyond maxQueue waiting', async () => {
    const limit = bulkhead({ maxConcurrent: 1, maxQueue: 2 });
    const gates = Array.from({ length: 3 }, gate);
    const runs = gates.map((g) => limit.run(g.task));
    const late = gate();
    expect(limit.refusalNow()).toBe('queue-full');
    await expect(limit.run(late.task)).rejects.toEqual(refusal('queue-full'));
    await expect(limit.run(late.task)).rejects.toThrow(BulkheadRefusedError);
    expect(late.started()).toBe(false);
    // The refusals took nothing: the queued tasks still run, and then new ones are admitted.
    for (const g of gates) g.finish();
    await Promise.all(runs);
    expect(limit.refusalNow()).toBeUndefined();
    await expect(limit.run(async () => 'again')).resolves.toBe('again');
  });

  it('frees the slot of a task that fails, and passes its error on', async () => {
    const limit = bulkhead({ maxConcurrent: 1, maxQueue: 1 });
    const failing = gate();
    const next = gate();
    const first = limit.run(failing.task);
    const second = limit.run(next.task);
    failing.fail(new Error('hash failed'));
    await expect(first).rejects.toThrow('hash failed');
    await settle();
    expect(next.started()).toBe(true);
    next.finish('next');
    await expect(second).resolves.toBe('next');
    expect([limit.running, limit.waiting]).toEqual([0, 0]);
    // A task that throws synchronously frees its slot too.
    await expect(
      limit.run(() => {
        throw new Error('at once');
      }),
    ).rejects.toThrow('at once');
    expect(limit.running).toBe(0);
  });

  describe('with a bounded wait', () => {
    beforeEach(() => jest.useFakeTimers());
    afterEach(() => jest.useRealTimers());

    it('refuses a queued task still waiting after maxWaitMs, and never starts it', async () => {
      const limit = bulkhead({ maxConcurrent: 1, maxQueue: 4, maxWaitMs: 500 });
      const running = gate();
      const queued = gate();
      const first = limit.run(running.task);
      const second = limit.run(queued.task);
      const refused = expect(second).rejects.toEqual(refusal('waited-too-long'));
      jest.advanceTimersByTime(499);
      await Promise.resolve();
      expect(limit.waiting).toBe(1);
      jest.advanceTimersByTime(1);
      await refused;
      expect(limit.waiting).toBe(0);
      running.finish();
      await first;
      expect(queued.started()).toBe(false);
      expect(limit.running).toBe(0);
    });

    it('refuses at once a task whose wait, by recent task durations, would exceed maxWaitMs', async () => {
      const limit = bulkhead({ maxConcurrent: 1, maxQueue: 10, maxWaitMs: 500 });
      // Tasks of 200 ms: two rounds ahead (400 ms) wait, a third (600 ms) is refused.
      const timed = limit.run(() => new Promise<void>((resolve) => setTimeout(resolve, 200)));
      await jest.advanceTimersByTimeAsync(200);
      await timed;

      // One runs, two wait (one and two rounds of 200 ms ahead).
      const gates = Array.from({ length: 3 }, gate);
      const runs = gates.map((g) => limit.run(g.task));
      expect([limit.running, limit.waiting]).toEqual([1, 2]);
      const third = gate();
      expect(limit.refusalNow()).toBe('wait-too-long');
      await expect(limit.run(third.task)).rejects.toEqual(refusal('wait-too-long'));
      expect(limit.waiting).toBe(2);
      for (const g of gates) g.finish();
      await Promise.all(runs);
      expect(third.started()).toBe(false);
    });
  });

  it('refuses impossible bounds', () => {
    expect(() => bulkhead({ maxConcurrent: 0 })).toThrow(RangeError);
    expect(() => bulkhead({ maxQueue: -1 })).toThrow(RangeError);
    expect(() => bulkhead({ maxWaitMs: 1.5 })).toThrow(RangeError);
  });
});
