import { performance } from 'node:perf_hooks';
import { type ApiClient, type Rejection, timeUntilRejected } from '@rescind/testing';

/** Fan-out (README, "Guarantees and their limits"): other ready replicas reject within 100 ms. */
export const FAN_OUT_BUDGET_MS = 100;
/** A probe gives up well after the budget, so that a miss reads as a figure, not a timeout. */
export const PROBE_TIMEOUT_MS = 3_000;

/** Options of {@link measureFanOut}. */
export interface FanOutOptions {
  /** The first token is logged out on replica `offset`, the next on the one after, … @default 0 */
  readonly offset?: number;
  /** Expect every replica to accept each token before it is logged out. @default false */
  readonly acceptedFirst?: boolean;
}

/**
 * Logs each token out on a rotating origin, which must reject it at once, and measures when the
 * other replicas reject it as revoked.
 */
export async function measureFanOut(
  replicas: readonly ApiClient[],
  tokens: readonly string[],
  { offset = 0, acceptedFirst = false }: FanOutOptions = {},
): Promise<Rejection[]> {
  const rejections: Rejection[] = [];
  for (const [index, token] of tokens.entries()) {
    const origin = replicas[(index + offset) % replicas.length] as ApiClient;
    if (acceptedFirst) {
      // Accepted everywhere first, so that a rejection afterwards can only be the revocation.
      expect(await Promise.all(replicas.map((client) => client.check(token)))).toEqual(
        replicas.map(() => '200'),
      );
    }
    await origin.logout(token);
    const returnedAt = performance.now();
    const [atOrigin, ...elsewhere] = await Promise.all([
      origin.check(token),
      ...replicas
        .filter((client) => client !== origin)
        .map((client) => timeUntilRejected(client, token, returnedAt, PROBE_TIMEOUT_MS, 'revoked')),
    ]);
    expect(atOrigin).toBe('revoked');
    rejections.push(...(elsewhere as Rejection[]));
  }
  return rejections;
}
