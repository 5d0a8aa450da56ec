import { HarnessError } from './harness.error';
import { waitFor } from './wait-for';

describe('waitFor', () => {
  it('returns the first truthy value', async () => {
    let calls = 0;
    const value = await waitFor(() => (++calls >= 3 ? `after ${calls}` : undefined), {
      timeoutMs: 1_000,
      intervalMs: 1,
      description: 'the third call',
    });
    expect(value).toBe('after 3');
  });

  it('treats a throwing predicate as not yet', async () => {
    let calls = 0;
    const value = await waitFor(
      async () => {
        if (++calls < 2) throw new Error('not yet');
        return true;
      },
      { timeoutMs: 1_000, intervalMs: 1, description: 'success' },
    );
    expect(value).toBe(true);
  });

  describe('when the condition never holds', () => {
    it('throws ERR_WAIT_TIMEOUT naming the description and the last error', async () => {
      const error = await waitFor(
        () => {
          throw new Error('connection refused');
        },
        { timeoutMs: 50, description: 'the replica to be ready' },
      ).catch((e: unknown) => e);

      expect(error).toBeInstanceOf(HarnessError);
      expect((error as HarnessError).code).toBe('ERR_WAIT_TIMEOUT');
      expect((error as Error).message).toMatch(/50 ms waiting for the replica to be ready/);
      expect((error as Error).message).toMatch(/last error: connection refused/);
    });

    it('names the last value', async () => {
      await expect(waitFor(() => false, { timeoutMs: 30, description: 'a flag' })).rejects.toThrow(
        /waiting for a flag \(last value: false\)/,
      );
    });
  });

  it('does not outlive its timeout when the predicate hangs', async () => {
    const started = Date.now();
    await expect(
      waitFor(() => new Promise<boolean>(() => undefined), {
        timeoutMs: 50,
        description: 'a hang',
      }),
    ).rejects.toThrow(/waiting for a hang/);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('stops at once when its signal aborts, with the signal reason', async () => {
    const controller = new AbortController();
    const reason = new Error('process exited');
    const waiting = waitFor(() => false, {
      timeoutMs: 10_000,
      description: 'never',
      signal: controller.signal,
    });
    controller.abort(reason);
    await expect(waiting).rejects.toBe(reason);
  });
});
