import { performance } from 'node:perf_hooks';
import { type ApiAnswer } from './api-client';
import { type RejectionTarget, timeUntilRejected } from './rejection-probe';

/** A target answering the given statuses (and bodies) in turn, then the last one forever. */
function scripted(...answers: [number, unknown?][]): RejectionTarget {
  let next = 0;
  return {
    label: 'scripted',
    me: async () => {
      const [status, json] = answers[Math.min(next++, answers.length - 1)] as [number, unknown?];
      const at = performance.now();
      const answer: ApiAnswer = {
        status,
        headers: new Headers(),
        text: '',
        json,
        sentAtMs: at,
        doneAtMs: at,
      };
      return answer;
    },
  };
}

const revoked: [number, unknown] = [401, { error: 'ERR_TOKEN_REVOKED' }];
const expired: [number, unknown] = [401, { error: 'ERR_TOKEN_EXPIRED' }];

describe('timeUntilRejected', () => {
  it('counts the answers accepted before the rejection, with the last one a lower bound', async () => {
    const since = performance.now();
    const rejection = await timeUntilRejected(scripted([200], [200], revoked), 't', since, 1_000);
    expect(rejection.acceptedAfter).toBe(2);
    expect(rejection.lastAcceptedSentMs).toBeGreaterThanOrEqual(0);
    expect(rejection.elapsedMs).toBeGreaterThanOrEqual(rejection.lastAcceptedSentMs as number);
  });

  it('has no lower bound when the first answer is already a rejection', async () => {
    const rejection = await timeUntilRejected(scripted(revoked), 't', performance.now(), 1_000);
    expect(rejection).toMatchObject({ acceptedAfter: 0, lastAcceptedSentMs: undefined });
  });

  it("waits for ERR_TOKEN_REVOKED with 'revoked', and fails on another 401", async () => {
    await expect(
      timeUntilRejected(scripted([200], expired), 't', performance.now(), 1_000, 'revoked'),
    ).rejects.toThrow(/answered 401/);
    await expect(
      timeUntilRejected(scripted([200], revoked), 't', performance.now(), 1_000, 'revoked'),
    ).resolves.toMatchObject({ acceptedAfter: 1 });
  });

  it("takes any answer but 200 with 'not-accepted', no answer (0) included", async () => {
    await expect(
      timeUntilRejected(scripted([200], [0]), 't', performance.now(), 1_000, 'not-accepted'),
    ).resolves.toMatchObject({ acceptedAfter: 1 });
    await expect(timeUntilRejected(scripted([503]), 't', performance.now(), 1_000)).rejects.toThrow(
      /answered 503/,
    );
  });

  it('gives up once the token is still accepted after the timeout', async () => {
    await expect(timeUntilRejected(scripted([200]), 't', performance.now(), 20)).rejects.toThrow(
      /still accepted the token/,
    );
  });
});
