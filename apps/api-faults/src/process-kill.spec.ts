import { performance } from 'node:perf_hooks';
import {
  type ApiAnswer,
  type ApiClient,
  newCredentials,
  type Readiness,
  waitFor,
} from '@rescind/testing';
import { seedExpiredBacklog } from './support/expired-backlog';
import { FaultRun, type RunVerdicts } from './support/fault-run';
import { type TrafficTotals } from './support/steady-traffic';

const C = 2;
/** The killed replica is ready again within this long of its restart. */
const READY_AGAIN_BOUND_MS = 20_000;
/** Expired revocations waiting for the worker, so that its first job runs long enough to be killed mid-way. */
const BACKLOG = 200_000;
const TOKEN_TTL_SECONDS = 2;
const TIDY_INTERVAL_MS = 1_000;
/** The store is tidy within this long after the worker restarted and the live tokens expired. */
const TIDY_BOUND_MS = 20_000;
/**
 * BullMQ retries a job whose worker died once its lock has expired (lockDuration 30 s, renewed
 * every 15 s) and a stalled-jobs check has seen it twice (stalledInterval 30 s, counted from the
 * restarted worker's start): about 60 s after the kill, 90 s at worst, and later still when both
 * cores are busy and the checks' timers fire late (a run on a loaded machine needed more than 90 s).
 */
const STALLED_RETRY_BOUND_MS = 150_000;

describe('when processes are killed with SIGKILL', () => {
  // The worker scenario starts first and its killed job is checked last: BullMQ retries it only
  // once its lock has expired, which the replica scenario's run overlaps.
  const tidyCluster = FaultRun.cluster('worker-kill', {
    // Started by the scenario itself, once the backlog is in place.
    worker: undefined,
    replicas: [{}, {}],
    env: { ACCESS_TOKEN_TTL: String(TOKEN_TTL_SECONDS) },
    seed: (redis, prefix) => seedExpiredBacklog(redis, prefix, BACKLOG),
  });
  const queueKey = (...parts: string[]): string => tidyCluster.key('maintenance', ...parts);
  let indexAtKill = Number.NaN;
  let killedJobs: string[] = [];
  let killedAt = Number.NaN;
  let tidyAfterRestartMs = Number.NaN;
  let retriedAfterKillMs = Number.NaN;
  /** The killed job's end, watched from the kill on (checked by the last test). */
  let killedJobEnd: Promise<{ stalledCount: number; failedReason: string }> | undefined;

  /**
   * Watches the job until it has finished. From the kill on: the worker keeps only its last 100
   * completed jobs (`removeOnComplete`), and at one job a second a late look finds none.
   */
  function watchJobEnd(job: string): Promise<{ stalledCount: number; failedReason: string }> {
    return waitFor(
      async () => {
        const [finishedOn, stalledCount, failedReason] = (await tidyCluster.redis.command(
          'HMGET',
          queueKey(job),
          'finishedOn',
          'stc',
          'failedReason',
        )) as (string | null)[];
        if (finishedOn === null || finishedOn === undefined) return false;
        retriedAfterKillMs = performance.now() - killedAt;
        return { stalledCount: Number(stalledCount ?? 0), failedReason: failedReason ?? '' };
      },
      {
        timeoutMs: STALLED_RETRY_BOUND_MS,
        intervalMs: 250,
        description: `job ${job} to be retried and finish`,
      },
    );
  }

  async function count(pattern: string): Promise<number> {
    const keys = await tidyCluster.redis.command('KEYS', tidyCluster.key(pattern));
    return Array.isArray(keys) ? keys.length : 0;
  }

  async function leftovers(): Promise<Record<string, number>> {
    return {
      tokenRecords: await count('rev:t:*'),
      userRecords: await count('rev:u:*'),
      indexEntries: Number(await tidyCluster.redis.cli('ZCARD', tidyCluster.key('rev', 'index'))),
      logEntries: Number(await tidyCluster.redis.cli('XLEN', tidyCluster.key('rev', 'log'))),
    };
  }

  afterAll(async () => {
    console.log(
      `[faults] 6b worker-kill | load: ${BACKLOG.toLocaleString('en-US')} expired revocations waiting + 6 live ones (TTL ${TOKEN_TTL_SECONDS} s) | faults: worker SIGKILLed mid-job (index ${indexAtKill.toLocaleString('en-US')} of ${(BACKLOG + 6).toLocaleString('en-US')} entries left, job ${killedJobs.join(',')}), restarted | recovery: store tidy after restart ms ${Math.round(tidyAfterRestartMs)}, killed job retried and completed after kill ms ${Math.round(retriedAfterKillMs)}`,
    );
    await tidyCluster.stop();
  });

  describe(`when the worker is killed mid-job and restarted (ACCESS_TOKEN_TTL=${TOKEN_TTL_SECONDS}, TIDY_INTERVAL_MS=${TIDY_INTERVAL_MS})`, () => {
    beforeAll(async () => {
      await tidyCluster.start();
      const [a, b] = tidyCluster.clients as [ApiClient, ApiClient];
      // Live revocations that expire within TOKEN_TTL_SECONDS: a few logouts and a logout-all.
      const credentials = newCredentials('short');
      const tokens = [await a.registerAndLogin(credentials)];
      for (let i = 0; i < 6; i++) tokens.push(await b.login(credentials));
      for (const token of tokens.slice(0, 5))
        expect((await a.logoutAnswer(token)).status).toBe(204);
      expect((await b.logoutAllAnswer(tokens[5] as string)).status).toBe(204);

      const before = Number(await tidyCluster.redis.cli('ZCARD', tidyCluster.key('rev', 'index')));
      const worker = await tidyCluster.startWorker({ TIDY_INTERVAL_MS: String(TIDY_INTERVAL_MS) });
      await waitFor(
        async () =>
          Number(await tidyCluster.redis.cli('ZCARD', tidyCluster.key('rev', 'index'))) < before,
        { timeoutMs: 20_000, intervalMs: 2, description: 'the worker to start tidying' },
      );
      killedJobs = (await tidyCluster.redis.cli('LRANGE', queueKey('active'), '0', '-1'))
        .split('\n')
        .filter(Boolean);
      killedAt = performance.now();
      await worker.kill();
      if (killedJobs.length === 1) {
        killedJobEnd = watchJobEnd(killedJobs[0] as string);
        killedJobEnd.catch(() => undefined); // awaited, failure included, by the last test
      }
      indexAtKill = Number(await tidyCluster.redis.cli('ZCARD', tidyCluster.key('rev', 'index')));

      const restartedAt = performance.now();
      await worker.restart();
      await waitFor(
        async () => {
          const left = await leftovers();
          if (Object.values(left).some((n) => n !== 0))
            throw new Error(`left in Redis: ${JSON.stringify(left)}`);
          return true;
        },
        { timeoutMs: TIDY_BOUND_MS, intervalMs: 100, description: 'the store to be tidy' },
      );
      tidyAfterRestartMs = performance.now() - restartedAt;
    });

    it('was killed in the middle of a job', () => {
      expect(killedJobs.length).toBe(1);
      expect(indexAtKill).toBeGreaterThan(0);
      expect(indexAtKill).toBeLessThan(BACKLOG);
    });

    it('ends with a tidy store once the live tokens have expired: no records, no index entries, no log entries', async () => {
      expect(await leftovers()).toEqual({
        tokenRecords: 0,
        userRecords: 0,
        indexEntries: 0,
        logEntries: 0,
      });
    });

    it('leaves the replicas ready and in sync across the trimmed log', async () => {
      expect(await tidyCluster.allReady()).toBe(true);
    });
  });

  describe('when a replica is killed mid-burst and restarted', () => {
    const cluster = FaultRun.cluster('replica-kill');
    let verdicts: RunVerdicts;
    let totals: TrafficTotals;
    let killedAt = Number.NaN;
    let restartedAt = Number.NaN;
    let readyAt = Number.NaN;
    let revokedWhileDown = 0;
    const readinessAnswers: ApiAnswer<Readiness>[] = [];
    let atFirstReady: number[] = [];

    beforeAll(async () => {
      await cluster.start();
      const run = new FaultRun(cluster, { revokers: 3, revokePauseMs: 5 });
      const replica = cluster.replicas[C];
      const client = cluster.clients[C] as ApiClient;
      if (replica === undefined) throw new Error('no replica c');
      try {
        await run.start();
        killedAt = performance.now();
        await replica.kill();
        await run.revocationsMade(40, 'revocations while replica c is down');
        revokedWhileDown = run.auditor.allRevocations.filter(
          (r) => r.returnedAtMs > killedAt,
        ).length;
        restartedAt = performance.now();
        await replica.restart();
        // Watch every readiness answer from the restart on, until the first 200.
        await waitFor(
          async () => {
            const answer = await client.readiness();
            readinessAnswers.push(answer);
            return answer.status === 200;
          },
          {
            timeoutMs: READY_AGAIN_BOUND_MS,
            intervalMs: 5,
            description: 'replica c to be ready after its restart',
          },
        );
        readyAt = performance.now();
        const revoked = run.auditor.revokedTokensInOrder.slice();
        atFirstReady = [];
        for (let i = 0; i < revoked.length; i += 16) {
          const batch = revoked.slice(i, i + 16);
          atFirstReady.push(
            ...(await Promise.all(
              batch.map(async (token) => (await run.auditor.present(C, token, 'probe')).status),
            )),
          );
        }
        await run.revocationsMade();
      } finally {
        totals = await run.finish();
      }
      verdicts = run.verdicts({
        // Down, then starting: connections refused; then 503 until it has hydrated.
        mayGoUnanswered: (request) =>
          request.replica === C && request.doneAtMs >= killedAt && request.sentAtMs <= readyAt,
        designed503: (request) =>
          request.replica === C && request.doneAtMs >= restartedAt && request.sentAtMs <= readyAt,
      });
    });

    FaultRun.afterScenario(
      cluster,
      () => ({ verdicts, totals }),
      () => ({
        scenario: '6a replica-kill',
        faults: `replica c SIGKILLed mid-burst, down ${Math.round(restartedAt - killedAt)} ms while ${revokedWhileDown} revocations were made, then restarted`,
        recovery: {
          'c ready after restart ms': readyAt - restartedAt,
          'readiness answers before ready': readinessAnswers.length - 1,
          'revoked tokens rejected at first ready': `${atFirstReady.filter((s) => s === 401).length}/${atFirstReady.length}`,
        },
      }),
    );

    it('never reports ready before it has hydrated and caught up', () => {
      for (const answer of readinessAnswers) {
        if (answer.status === 200)
          expect(answer.json).toMatchObject({ hydrated: true, caughtUp: true, subscribed: true });
        else expect(answer.json?.ready ?? false).toBe(false);
      }
      expect(readinessAnswers[readinessAnswers.length - 1]?.status).toBe(200);
    });

    it('rejects every token revoked so far, from the moment it is ready', () => {
      expect(revokedWhileDown).toBeGreaterThan(0);
      expect(atFirstReady.filter((status) => status !== 401)).toEqual([]);
    });

    FaultRun.judge(() => verdicts, {
      strict:
        'accepts no revoked token later than 100 ms after its revocation returned, before or after the restart',
      nothingLost:
        'loses nothing: once ready again, it enforces everything revoked while it was down',
      clean: 'answers no 5xx but 503 while starting, and rejects no valid token',
    });
  });

  describe('when the worker killed mid-job is long gone', () => {
    it(
      'retries the killed job once its lock has expired, and it completes (idempotent: nothing left to do)',
      async () => {
        expect(killedJobs).toHaveLength(1);
        const end = await killedJobEnd;
        expect(end?.stalledCount).toBeGreaterThanOrEqual(1);
        expect(end?.failedReason).toBe('');
        expect(await leftovers()).toEqual({
          tokenRecords: 0,
          userRecords: 0,
          indexEntries: 0,
          logEntries: 0,
        });
      },
      STALLED_RETRY_BOUND_MS + 10_000,
    );
  });
});
