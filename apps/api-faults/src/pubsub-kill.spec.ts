import { setTimeout as sleep } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';
import {
  acceptedBeyond,
  type ApiClient,
  elapsed,
  inBatches,
  userWithTokens,
  waitFor,
  metricValue,
  newCredentials,
  type Rejection,
  timeUntilRejected,
} from '@rescind/testing';
import { FaultRun, type RunVerdicts } from './support/fault-run';
import { type TrafficTotals } from './support/steady-traffic';
import { RevocationAuditor } from './support/revocation-auditor';

/** The fault's rhythm: one kill of every pub/sub connection this often… */
const KILL_PERIOD_MS = 300;
/** …this many times. */
const KILLS = 10;
/** Every replica is ready again within this long after the last kill. */
const READY_AGAIN_BOUND_MS = 5_000;
/** Kills each followed at once by a logout, probed in a tight loop on the other replicas. */
const TARGETED_ROUNDS = 5;

describe(`when Redis kills every pub/sub connection (CLIENT KILL TYPE pubsub) ${KILLS} times, every ${KILL_PERIOD_MS} ms, during a revocation burst`, () => {
  const cluster = FaultRun.cluster('pubsub-kill');
  let verdicts: RunVerdicts;
  let totals: TrafficTotals;
  let connectionsKilled = 0;
  let emptyKills = 0;
  let readyAgainMs = Number.NaN;
  const resubscribes: number[] = [];
  /** Samples of `rescind_resyncs_total{cause="resubscribe"}` per replica: one series each. */
  const resubscribeSeries: number[] = [];
  const killTimes: number[] = [];

  beforeAll(async () => {
    const run = await FaultRun.begin(cluster, { revokers: 3, revokePauseMs: 5 });
    try {
      for (let kill = 0; kill < KILLS; kill++) {
        killTimes.push(performance.now());
        const killed = Number(await cluster.redis.cli('CLIENT', 'KILL', 'TYPE', 'pubsub'));
        connectionsKilled += killed;
        if (killed === 0) emptyKills++;
        await sleep(KILL_PERIOD_MS);
      }
      const lastKillAt = killTimes[killTimes.length - 1] as number;
      readyAgainMs = await FaultRun.timeUntilReady(
        cluster,
        lastKillAt,
        READY_AGAIN_BOUND_MS,
        'every replica to be ready after the last kill',
      );
      await run.revocationsMade();
    } finally {
      totals = await run.finish();
    }
    verdicts = run.verdicts();
    for (const client of cluster.clients) {
      const metrics = await client.metrics();
      resubscribes.push(
        metricValue(metrics, 'rescind_resyncs_total', { cause: 'resubscribe' }) ?? 0,
      );
      resubscribeSeries.push(
        metrics
          .split('\n')
          .filter(
            (line) =>
              line.startsWith('rescind_resyncs_total{') && line.includes('cause="resubscribe"'),
          ).length,
      );
    }
  });

  FaultRun.afterScenario(
    cluster,
    () => ({ verdicts, totals }),
    () => ({
      scenario: '1 pubsub-kill',
      faults: `${KILLS}x CLIENT KILL TYPE pubsub every ${KILL_PERIOD_MS} ms (${connectionsKilled} connections killed)`,
      recovery: {
        'all ready after last kill ms': readyAgainMs,
        'resubscribe catch-ups per replica': resubscribes.join('/'),
      },
    }),
  );

  FaultRun.judge(() => verdicts, {
    nothingLost:
      'loses nothing: a replica that missed events while re-subscribing enforces them once it is ready again',
    clean: 'answers no 5xx, leaves no request unanswered, and never rejects a token nobody revoked',
    explainLate: (late) => {
      const returnedAt = late.sentAtMs - late.sentAfterMs;
      const kill = Math.max(...killTimes.filter((at) => at <= returnedAt), -Infinity);
      return { ...late, revocationReturnedAfterKillMs: Math.round(returnedAt - kill) };
    },
  });

  it(`has every replica ready again within ${READY_AGAIN_BOUND_MS} ms of the last kill`, () => {
    // A kill may find every replica still reconnecting from the previous one, killing nothing.
    expect(emptyKills).toBeLessThan(KILLS / 2);
    expect(readyAgainMs).toBeLessThan(READY_AGAIN_BOUND_MS);
  });

  it('caught up from the log after re-subscribing (resyncs counted with cause "resubscribe")', () => {
    // Kills that land while a replica is still reconnecting coalesce into one re-subscription,
    // so the count is anywhere from one to the number of kills.
    expect(resubscribeSeries).toEqual(cluster.clients.map(() => 1));
    for (const count of resubscribes) expect(count).toBeGreaterThanOrEqual(1);
  });

  it('has re-subscribed, so that fan-out is back within 100 ms rather than at the next catch-up', async () => {
    const subscribers = async (): Promise<number> =>
      (await cluster.redis.cli('CLIENT', 'LIST', 'TYPE', 'pubsub'))
        .split('\n')
        .filter((line) => line.trim() !== '').length;
    await waitFor(async () => (await subscribers()) >= cluster.clients.length, {
      timeoutMs: READY_AGAIN_BOUND_MS,
      description: 'a pub/sub connection per replica again',
    });
    const [a, b, c] = cluster.clients as [ApiClient, ApiClient, ApiClient];
    const { tokens } = await userWithTokens(a, cluster.clients, 10, 'after-kill');
    const rejections = (
      await inBatches(tokens, 1, async (token) => {
        await a.logout(token);
        const returnedAt = performance.now();
        return Promise.all(
          [b, c].map((client) => timeUntilRejected(client, token, returnedAt, 2_000)),
        );
      })
    ).flat();
    expect(acceptedBeyond(rejections, 100)).toEqual([]);
    expect(Math.max(...elapsed(rejections))).toBeLessThan(1_000);
  });

  describe('when a logout is made the moment a kill returns', () => {
    const rounds: Rejection[][] = [];

    beforeAll(async () => {
      const auditor = new RevocationAuditor(cluster.clients);
      const [a] = cluster.clients as [ApiClient];
      for (let round = 0; round < TARGETED_ROUNDS; round++) {
        await cluster.waitAllReady(READY_AGAIN_BOUND_MS, 'every replica to be ready');
        const token = await a.registerAndLogin(newCredentials('kill'));
        await cluster.redis.cli('CLIENT', 'KILL', 'TYPE', 'pubsub');
        const answer = await a.logoutAnswer(token);
        if (answer.status !== 204) throw new Error(`logout answered ${answer.status}`);
        rounds.push(
          await Promise.all(
            [1, 2].map((replica) =>
              timeUntilRejected(
                auditor.target(replica),
                token,
                answer.doneAtMs,
                READY_AGAIN_BOUND_MS,
                'not-accepted',
              ),
            ),
          ),
        );
      }
      const lastAccepted = rounds
        .flat()
        .map((rejection) => Math.round(rejection.lastAcceptedSentMs ?? 0));
      const elapsed = rounds.flat().map((rejection) => Math.round(rejection.elapsedMs));
      console.log(
        `[faults] 1 pubsub-kill, logout the moment a kill returns: b and c still accepted requests sent up to [${lastAccepted.join(', ')}] ms after it returned; rejected it after [${elapsed.join(', ')}] ms`,
      );
    });

    it('is rejected by every other replica within 100 ms all the same', () => {
      const late = rounds.flat().filter((rejection) => (rejection.lastAcceptedSentMs ?? 0) > 100);
      expect(late).toEqual([]);
    });
  });
});
