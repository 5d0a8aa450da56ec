import { performance } from 'node:perf_hooks';
import { type ApiAnswer, type ApiClient } from './api-client';

/** When one replica was seen to reject a revoked token, relative to when the revocation returned. */
export interface Rejection {
  /**
   * Milliseconds until the first rejection arrived: an upper bound on the propagation delay (it
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
 * What counts as the rejection: `revoked` (401 with `ERR_TOKEN_REVOKED`, so that an expired token
 * is never mistaken for a revoked one), `unauthorized` (any 401) or `not-accepted` (any answer but
 * 200, including none, e.g. while a replica fails closed).
 */
export type RejectionKind = 'revoked' | 'unauthorized' | 'not-accepted';

/** Where a token is presented: an {@link ApiClient}, or anything answering like its `me()`. */
export interface RejectionTarget {
  /** Names the replica in errors. */
  readonly label: string;
  /** One `GET /me` with `token` as the bearer; never throws (no answer is status 0). */
  me(token: string): Promise<ApiAnswer>;
}

/**
 * Presents a revoked `token` to one replica in a tight loop (no pause between requests) until it
 * is rejected, timing from `sinceMs` (a `performance.now()` reading taken when the revocation
 * call returned).
 * @throws when the token is still accepted after `timeoutMs`, or on an answer that is neither
 * 200 nor the awaited rejection
 */
export async function timeUntilRejected(
  target: RejectionTarget,
  token: string,
  sinceMs: number,
  timeoutMs: number,
  until: RejectionKind = 'unauthorized',
): Promise<Rejection> {
  let lastAcceptedSentMs: number | undefined;
  let acceptedAfter = 0;
  for (;;) {
    const answer = await target.me(token);
    const elapsedMs = performance.now() - sinceMs;
    if (isRejection(answer, until)) return { elapsedMs, lastAcceptedSentMs, acceptedAfter };
    if (answer.status !== 200) {
      throw new Error(`${target.label}/me answered ${answer.status} while waiting for ${until}`);
    }
    lastAcceptedSentMs = answer.sentAtMs - sinceMs;
    acceptedAfter++;
    if (elapsedMs > timeoutMs) {
      throw new Error(`${target.label} still accepted the token ${elapsedMs.toFixed(1)} ms later`);
    }
  }
}

function isRejection(answer: ApiAnswer, until: RejectionKind): boolean {
  if (until === 'not-accepted') return answer.status !== 200;
  if (answer.status !== 401) return false;
  if (until === 'unauthorized') return true;
  const body = answer.json as { error?: unknown } | undefined;
  return body?.error === 'ERR_TOKEN_REVOKED';
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

/** What {@link logoutAndTimeFanOut} saw. */
export interface FanOut {
  /** What the origin answered for the token right after its logout returned. */
  readonly atOrigin: ApiAnswer;
  /** When each of the other replicas rejected it, in their order. */
  readonly rejections: Rejection[];
}

/**
 * Logs `token` out on `origin`, then at once presents it to the origin and times, from the moment
 * the logout returned, when each of `others` rejects it (see {@link timeUntilRejected}).
 */
export async function logoutAndTimeFanOut(
  origin: ApiClient,
  others: readonly ApiClient[],
  token: string,
  timeoutMs: number,
  until: RejectionKind = 'unauthorized',
): Promise<FanOut> {
  await origin.logout(token);
  const returnedAt = performance.now();
  const [atOrigin, ...rejections] = await Promise.all([
    origin.me(token),
    ...others.map((client) => timeUntilRejected(client, token, returnedAt, timeoutMs, until)),
  ]);
  return { atOrigin: atOrigin as ApiAnswer, rejections: rejections as Rejection[] };
}
