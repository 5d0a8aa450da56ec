import { performance } from 'node:perf_hooks';
import { type RevocationAuditor } from './revocation-auditor';

/** When one replica was seen to reject a revoked token, relative to when its revocation returned. */
export interface Rejection {
  readonly replica: number;
  /** Until the first non-200 arrived: an upper bound on the delay (includes a round trip). */
  readonly elapsedMs: number;
  /**
   * When the last request still accepted had been sent, or 0 when the first one was already
   * rejected: a lower bound on the delay that load on the test machine cannot inflate.
   */
  readonly lastAcceptedSentMs: number;
}

/**
 * Presents `token` to one replica in a tight loop (no pause) until it answers anything but 200,
 * timing from `returnedAtMs` (a `performance.now()` reading taken when the revocation returned).
 * Every request goes through the auditor.
 * @throws when the token is still accepted after `timeoutMs`
 */
export async function timeUntilRejected(
  auditor: RevocationAuditor,
  replica: number,
  token: string,
  returnedAtMs: number,
  timeoutMs: number,
): Promise<Rejection> {
  let lastAcceptedSentMs = 0;
  for (;;) {
    const answer = await auditor.present(replica, token, 'probe');
    const elapsedMs = performance.now() - returnedAtMs;
    if (answer.status !== 200) return { replica, elapsedMs, lastAcceptedSentMs };
    lastAcceptedSentMs = answer.sentAtMs - returnedAtMs;
    if (elapsedMs > timeoutMs) {
      throw new Error(
        `replica ${replica} still accepted a revoked token ${Math.round(elapsedMs)} ms later`,
      );
    }
  }
}
