import { performance } from 'node:perf_hooks';
import { type ApiClient } from './api-client';

/** When one replica was seen to reject a revoked token, relative to when the revocation returned. */
export interface Rejection {
  /**
   * Milliseconds until the first 401 arrived: an upper bound on the propagation delay (it
   * includes one HTTP round trip, and any scheduling delay of this test process).
   */
  readonly elapsedMs: number;
  /**
   * Milliseconds at which the last request still answered 200 had been sent, or `undefined` when
   * the very first request was already rejected. The replica certainly still accepted the token
   * at that time, so this is a lower bound on the propagation delay that load on the machine
   * cannot inflate.
   */
  readonly lastAcceptedSentMs: number | undefined;
  /** Requests answered 200 after the revocation returned. */
  readonly acceptedAfter: number;
}

/**
 * Polls `GET /me` on one replica in a tight loop (no pause between requests) until it answers 401
 * for `token`, timing from `sinceMs` (a `performance.now()` reading taken when the revocation
 * call returned).
 * @throws when the token is still accepted after `timeoutMs`, or on any answer but 200 or 401
 */
export async function timeUntilRejected(
  client: ApiClient,
  token: string,
  sinceMs: number,
  timeoutMs: number,
): Promise<Rejection> {
  let lastAcceptedSentMs: number | undefined;
  let acceptedAfter = 0;
  for (;;) {
    const sentMs = performance.now() - sinceMs;
    const status = await client.meStatus(token);
    const elapsedMs = performance.now() - sinceMs;
    if (status === 401) return { elapsedMs, lastAcceptedSentMs, acceptedAfter };
    if (status !== 200) {
      throw new Error(`${client.baseUrl}/me answered ${status} while waiting for 401`);
    }
    lastAcceptedSentMs = sentMs;
    acceptedAfter++;
    if (elapsedMs > timeoutMs) {
      throw new Error(
        `${client.baseUrl} still accepted the token ${elapsedMs.toFixed(1)} ms later`,
      );
    }
  }
}

/** The upper-bound figures of several rejections, for summaries. */
export function elapsed(rejections: readonly Rejection[]): number[] {
  return rejections.map((rejection) => rejection.elapsedMs);
}

/**
 * Rejections that prove a breach of `budgetMs`: the replica still accepted a request sent after
 * the budget had run out. Robust against a loaded machine, unlike a bound on `elapsedMs`.
 */
export function acceptedBeyond(rejections: readonly Rejection[], budgetMs: number): Rejection[] {
  return rejections.filter(
    (rejection) =>
      rejection.lastAcceptedSentMs !== undefined && rejection.lastAcceptedSentMs >= budgetMs,
  );
}
