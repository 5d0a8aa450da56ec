import { waitFor } from './wait-for';

/** Polls `url` with `fetch` until it answers 200; the timeout error names the last status or error. */
export async function waitForHttpOk(
  url: string,
  timeoutMs = 10_000,
  signal?: AbortSignal,
): Promise<void> {
  await waitFor(
    async () => {
      const response = await fetch(url, {
        signal: AbortSignal.timeout(Math.min(timeoutMs, 2_000)),
      }).catch((error: unknown) => {
        // undici reports "fetch failed"; the cause (ECONNREFUSED, …) is what explains a timeout.
        throw error instanceof Error && error.cause instanceof Error ? error.cause : error;
      });
      // Drain the body so the connection is released.
      await response.arrayBuffer();
      if (response.status !== 200) throw new Error(`HTTP ${response.status}`);
      return true;
    },
    { timeoutMs, description: `${url} to answer 200`, signal },
  );
}
