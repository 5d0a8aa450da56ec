import { performance } from 'node:perf_hooks';
import { type ApiClient } from './api-client';

/** When one replica was seen to reject a revoked token, relative to when the revocation returned. */
export interface Rejection {
  /** Milliseconds until the first rejection arrived: an upper bound (it includes one HTTP round trip). */
  readonly elapsedMs: number;
  /**
   * Milliseconds at which the last request still answered 200 had been sent, or `undefined` when
   * the first request was already rejected: a lower bound that load on the machine cannot inflate.
   */
  readonly lastAcceptedSentMs: number | undefined;
}

/**
 * Polls `GET /me` on one replica in a tight loop until it rejects `token` as revoked, timing from
 * `sinceMs` (a `performance.now()` reading taken when the revocation call returned).
 * @throws when the token is still accepted after `timeoutMs`, or on any other answer
 */
export async function timeUntilRejected(
  client: ApiClient,
  token: string,
  sinceMs: number,
  timeoutMs: number,
): Promise<Rejection> {
  let lastAcceptedSentMs: number | undefined;
  for (;;) {
    const sentMs = performance.now() - sinceMs;
    const outcome = await client.check(token);
    const elapsedMs = performance.now() - sinceMs;
    if (outcome === 'revoked') return { elapsedMs, lastAcceptedSentMs };
    if (outcome !== '200') {
      throw new Error(`${client.baseUrl}/me answered ${outcome} while waiting for the revocation`);
    }
    lastAcceptedSentMs = sentMs;
    if (elapsedMs > timeoutMs) {
      throw new Error(
        `${client.baseUrl} still accepted the token ${elapsedMs.toFixed(1)} ms later`,
      );
    }
  }
}

/** The upper-bound figures of several rejections. */
export function elapsed(rejections: readonly Rejection[]): number[] {
  return rejections.map((rejection) => rejection.elapsedMs);
}

/** Rejections that prove a breach of `budgetMs`: a request sent after the budget was still accepted. */
export function acceptedBeyond(rejections: readonly Rejection[], budgetMs: number): Rejection[] {
  return rejections.filter(
    (rejection) =>
      rejection.lastAcceptedSentMs !== undefined && rejection.lastAcceptedSentMs >= budgetMs,
  );
}
