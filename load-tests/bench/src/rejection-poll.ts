import { type ApiClient } from './api-client';

/**
 * A poll that never sees the revocation fails the run after this long; the fan-out bound itself is
 * 100 ms (README, "Guarantees and their limits").
 */
export const GIVE_UP_MS = 2_000;

/**
 * Polls `GET /me` back to back on one keep-alive client until it answers 401; resolves with the
 * `performance.now()` at which that 401 arrived. Anything but 200 or 401 fails, and so does a
 * token still accepted after {@link GIVE_UP_MS}.
 */
export async function pollUntilRejected(poller: ApiClient, token: string): Promise<number> {
  const deadline = performance.now() + GIVE_UP_MS;
  for (;;) {
    const status = await poller.meStatus(token);
    const now = performance.now();
    if (status === 401) return now;
    if (status !== 200) throw new Error(`poll answered ${status}`);
    if (now > deadline) {
      throw new Error(`${poller.baseUrl} still accepts a revoked token after ${GIVE_UP_MS} ms`);
    }
  }
}
