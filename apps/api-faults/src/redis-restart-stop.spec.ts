import { performance } from 'node:perf_hooks';
import {
  acceptedBeyond,
  ApiClient,
  claimsOf,
  elapsed,
  formatSummary,
  inBatches,
  type Rejection,
  summarize,
  userWithTokens,
  waitFor,
  logoutAndTimeFanOut,
} from '@rescind/testing';
import { FaultRun } from './support/fault-run';
import { RevokedWatch, type RevokedWatchReport } from './support/revoked-watch';

const READY_AGAIN_TIMEOUT_MS = 15_000;

// A crash (SIGKILL) with AOF is redis-restart-aof.spec.ts, data loss redis-restart-empty.spec.ts
// and store-loss.spec.ts; this is the orderly stop (SIGTERM, AOF flushed) and restart.
describe('when Redis goes away and comes back', () => {
  const cluster = FaultRun.cluster('redis-stop', { worker: undefined });
  let replicas: ApiClient[];

  beforeAll(async () => {
    await cluster.start();
    replicas = cluster.urls.map((url) => new ApiClient(url));
  });

  afterAll(async () => {
    await cluster.stop();
  });

  function allReady(): Promise<boolean> {
    return Promise.all(replicas.map((client) => client.isReady())).then((ready) =>
      ready.every(Boolean),
    );
  }

  async function allStatuses(tokens: readonly string[], on = replicas): Promise<number[]> {
    const perReplica = await Promise.all(
      on.map((client) => inBatches(tokens, 8, (token) => client.meStatus(token))),
    );
    return perReplica.flat();
  }

  /** Waits until every replica reports Redis unreachable and itself not ready. */
  async function outageNoticed(): Promise<void> {
    await waitFor(
      async () => {
        const answers = await Promise.all(replicas.map((client) => client.readiness()));
        return answers.every(
          (answer) => answer.status === 503 && answer.json?.storeReachable === false,
        );
      },
      { timeoutMs: 5_000, description: 'every replica to report Redis unreachable' },
    );
  }

  /** Revokes some tokens (one by one and by logout-all) and waits until every replica rejects them. */
  async function revokeSome(tag: string): Promise<{ revoked: string[]; valid: string[] }> {
    const [a, b, c] = replicas as [ApiClient, ApiClient, ApiClient];
    const loggedOut = (await userWithTokens(a, replicas, 30, tag)).tokens;
    await inBatches(loggedOut, 6, (token, index) =>
      (replicas[index % 3] as ApiClient).logout(token),
    );
    const cutOff = (await userWithTokens(b, replicas, 3, `${tag}-all`)).tokens;
    await c.logoutAll(cutOff[0] as string);
    const valid = (await userWithTokens(c, replicas, 6, `${tag}-valid`)).tokens;
    const revoked = [...loggedOut, ...cutOff];
    await waitFor(async () => (await allStatuses(revoked)).every((status) => status === 401), {
      timeoutMs: 2_000,
      description: 'every replica to reject every revoked token',
    });
    return { revoked, valid };
  }

  /** Logs `token` out on B and returns how long A and C took to reject it (ms). */
  async function fanOutOf(token: string): Promise<Rejection[]> {
    const [a, b, c] = replicas as [ApiClient, ApiClient, ApiClient];
    const { atOrigin, rejections } = await logoutAndTimeFanOut(b, [a, c], token, 5_000);
    expect(atOrigin.status).toBe(401);
    return rejections;
  }

  describe('when Redis is stopped and restarted with its AOF (same port, same dir)', () => {
    let revoked: string[];
    let valid: string[];
    let epochBefore: string;
    let watch: RevokedWatchReport;
    let readyAfterMs: number;

    beforeAll(async () => {
      ({ revoked, valid } = await revokeSome('aof'));
      epochBefore = await cluster.redis.cli('GET', cluster.key('rev', 'epoch'));

      const watcher = new RevokedWatch(replicas, revoked);
      watcher.start();
      try {
        await cluster.redis.stop();
        await outageNoticed();
        const restartedAt = performance.now();
        await cluster.redis.restart();
        await waitFor(allReady, {
          timeoutMs: READY_AGAIN_TIMEOUT_MS,
          description: 'every replica to be ready again after the Redis restart',
        });
        readyAfterMs = performance.now() - restartedAt;
      } finally {
        watch = await watcher.stop();
      }
    });

    it('never accepts a token revoked before the outage, during it or after it', async () => {
      console.log(
        `during the Redis restart: ${watch.checks} checks of revoked tokens, answers ${JSON.stringify(watch.statuses)}`,
      );
      expect(watch.accepted).toEqual([]);
      expect(watch.checks).toBeGreaterThan(0);
      expect((await allStatuses(revoked)).filter((status) => status !== 401)).toEqual([]);
    });

    it('has every replica ready again soon after Redis is back', () => {
      console.log(`replicas ready again ${readyAfterMs.toFixed(0)} ms after Redis was restarted`);
      expect(readyAfterMs).toBeLessThan(READY_AGAIN_TIMEOUT_MS);
    });

    it('finds the same store again (same epoch), with the revocations kept by the AOF', async () => {
      expect(await cluster.redis.cli('GET', cluster.key('rev', 'epoch'))).toBe(epochBefore);
      // A logout ends the token's session: the record is the session's (or the token's, had the
      // session ended already).
      const claims = claimsOf(revoked[0] as string);
      const records = [
        cluster.key('rev', 's', String(claims['sid'])),
        cluster.key('rev', 't', String(claims['jti'])),
      ];
      expect(Number(await cluster.redis.cli('EXISTS', ...records))).toBeGreaterThanOrEqual(1);
    });

    it('still accepts tokens that were never revoked', async () => {
      expect(await allStatuses(valid)).toEqual(Array(valid.length * 3).fill(200));
    });

    it('fans out new revocations to every replica within 100 ms', async () => {
      const rejections = (await inBatches(valid.slice(0, 3), 1, fanOutOf)).flat();
      console.log(
        `fan-out after the Redis restart, ms: ${formatSummary(summarize(elapsed(rejections)))}`,
      );
      expect(acceptedBeyond(rejections, 100)).toEqual([]);
      expect(Math.max(...elapsed(rejections))).toBeLessThan(1_000);
    });
  });
});
