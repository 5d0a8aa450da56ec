import { performance } from 'node:perf_hooks';
import { type ApiClient, claimsOf, newCredentials } from '@rescind/testing';
import { FaultRun, type RunVerdicts } from './support/fault-run';
import { type TrafficTotals } from './support/steady-traffic';

/** Redis crashes this many times, each right after some logouts were acknowledged. */
const CRASHES = 2;
/** Logouts acknowledged (204) the instant before each crash. */
const ACKED_BEFORE_CRASH = 6;
/** Every replica is ready again within this long after Redis is back. */
const READY_AGAIN_BOUND_MS = 10_000;

describe('when Redis crashes (SIGKILL) and restarts from its AOF (appendfsync always)', () => {
  const cluster = FaultRun.cluster('redis-aof', {
    redis: { appendfsync: 'always' },
  });
  let verdicts: RunVerdicts;
  let totals: TrafficTotals;
  const outages: { killedAt: number; backAt: number; readyAt: number }[] = [];
  const readyAgainMs: number[] = [];
  /** Tokens whose logout was acknowledged just before a crash. */
  const ackedBeforeCrash: string[] = [];
  let epochBefore: string;
  let seqBefore: number;

  /** Registers a user and logs it in `count` times on replica a. */
  async function freshTokens(count: number): Promise<string[]> {
    const a = cluster.clients[0] as ApiClient;
    const credentials = newCredentials('acked');
    const tokens = [await a.registerAndLogin(credentials)];
    while (tokens.length < count) tokens.push(await a.login(credentials));
    return tokens;
  }

  beforeAll(async () => {
    const run = await FaultRun.begin(cluster);
    try {
      epochBefore = await cluster.redis.cli('GET', cluster.key('rev', 'epoch'));
      for (let crash = 0; crash < CRASHES; crash++) {
        const tokens = await freshTokens(ACKED_BEFORE_CRASH);
        await Promise.all(
          tokens.map(async (token, index) => {
            const origin = index % 3;
            const answer = await (cluster.clients[origin] as ApiClient).logoutAnswer(token);
            if (answer.status !== 204) throw new Error(`logout answered ${answer.status}`);
            run.auditor.revoked({
              via: 'logout',
              tokens: [token],
              origin,
              startedAtMs: answer.sentAtMs,
              returnedAtMs: answer.doneAtMs,
            });
          }),
        );
        seqBefore = Number(await cluster.redis.cli('GET', cluster.key('rev', 'seq')));
        const killedAt = performance.now();
        await cluster.redis.kill();
        ackedBeforeCrash.push(...tokens);
        await cluster.redis.restart();
        const backAt = performance.now();
        readyAgainMs.push(
          await FaultRun.timeUntilReady(
            cluster,
            backAt,
            READY_AGAIN_BOUND_MS,
            'every replica to be ready again after the crash',
          ),
        );
        outages.push({ killedAt, backAt, readyAt: performance.now() });
        await run.revocationsMade();
      }
    } finally {
      totals = await run.finish();
    }
    verdicts = run.verdicts({
      // Logins and logouts need Redis: 503 while it is down and until the replica reconnects.
      designed503: (request) =>
        request.route !== 'me' &&
        outages.some(
          ({ killedAt, readyAt }) => request.doneAtMs >= killedAt && request.sentAtMs <= readyAt,
        ),
    });
  });

  FaultRun.afterScenario(
    cluster,
    () => ({ verdicts, totals }),
    () => ({
      scenario: '3 redis-restart-aof',
      faults: `${CRASHES}x redis-server SIGKILL right after ${ACKED_BEFORE_CRASH} acknowledged logouts, restarted from its AOF (down ${outages.map((o) => Math.round(o.backAt - o.killedAt)).join('/')} ms)`,
      recovery: { 'all ready after Redis back ms': readyAgainMs.map(Math.round).join('/') },
    }),
  );

  FaultRun.judge(() => verdicts, {
    clean:
      'answers no 5xx but the designed 503s of logins and logouts while Redis is down, and rejects no valid token',
    explain5xx: (r) => ({
      route: r.route,
      status: r.status,
      replica: r.replica,
      sent: outages
        .map(
          (o, i) =>
            `crash ${i + 1}: ${Math.round(r.sentAtMs - o.killedAt)} ms after kill, ${Math.round(r.sentAtMs - o.readyAt)} ms after ready`,
        )
        .join('; '),
    }),
  });

  it(`has every replica ready again within ${READY_AGAIN_BOUND_MS} ms of Redis being back`, () => {
    for (const ms of readyAgainMs) expect(ms).toBeLessThan(READY_AGAIN_BOUND_MS);
  });

  it('finds the same store again: same epoch, the log position kept', async () => {
    expect(await cluster.redis.cli('GET', cluster.key('rev', 'epoch'))).toBe(epochBefore);
    expect(
      Number(await cluster.redis.cli('GET', cluster.key('rev', 'seq'))),
    ).toBeGreaterThanOrEqual(seqBefore);
  });

  it('kept every revocation acknowledged just before a crash in Redis', async () => {
    // A logout ends the token's session: its record is the session's (or the token's, had the
    // session ended already).
    const missing: string[] = [];
    for (const token of ackedBeforeCrash) {
      const claims = claimsOf(token);
      const records = [
        cluster.key('rev', 's', String(claims['sid'])),
        cluster.key('rev', 't', String(claims['jti'])),
      ];
      if (Number(await cluster.redis.cli('EXISTS', ...records)) === 0) {
        missing.push(String(claims['jti']));
      }
    }
    expect(missing).toEqual([]);
  });

  it('lets a replica started afterwards hydrate them: it rejects every one, and accepts a fresh login', async () => {
    const replica = await cluster.addReplica();
    await replica.ready(30_000);
    const fresh = cluster.clients[cluster.clients.length - 1] as ApiClient;
    const statuses = await Promise.all(
      ackedBeforeCrash.map(async (token) => (await fresh.me(token)).status),
    );
    expect(statuses).toEqual(ackedBeforeCrash.map(() => 401));
    const token = await fresh.registerAndLogin(newCredentials('after-crash'));
    expect((await fresh.me(token)).status).toBe(200);
  });
});
