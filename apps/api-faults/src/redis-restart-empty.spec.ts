import { performance } from 'node:perf_hooks';
import { waitFor } from '@rescind/testing';
import { type ApiClient, claimsOf, newCredentials } from './support/api-client';
import { FaultCluster } from './support/fault-cluster';
import { FaultRun, type RunVerdicts } from './support/fault-run';
import { metricValue } from './support/prometheus-text';
import { type AuditedRevocation } from './support/revocation-auditor';
import { scenarioLine } from './support/scenario-summary';
import { type TrafficTotals } from './support/steady-traffic';

/** Every replica is ready again within this long after Redis is back. */
const READY_AGAIN_BOUND_MS = 10_000;
/** Every live revocation is back in Redis within this long after Redis is back. */
const WRITTEN_BACK_BOUND_MS = 10_000;

describe('when Redis comes back EMPTY (killed, data dir wiped, restarted on the same port)', () => {
  const cluster = new FaultCluster({ name: 'redis-empty', worker: {} });
  let verdicts: RunVerdicts;
  let totals: TrafficTotals;
  let epochBefore: string;
  let epochAfter: string;
  let killedAt = Number.NaN;
  let backAt = Number.NaN;
  let readyAgainMs = Number.NaN;
  let writtenBackMs = Number.NaN;
  let revokedBeforeLoss: readonly AuditedRevocation[] = [];
  let revokedTokens: readonly string[] = [];
  const storeResets: number[] = [];
  let freshReplicaStatuses: number[] = [];

  /** The record key of every revocation: `rev:t:<jti>` for a logout, `rev:u:<sub>` for a logout-all. */
  function recordKeys(revocations: readonly AuditedRevocation[]): string[] {
    return revocations.map((revocation) => {
      const claims = claimsOf(revocation.tokens[0] as string);
      return revocation.via === 'logout-all'
        ? cluster.key('rev', 'u', claims['sub'] as string)
        : cluster.key('rev', 't', claims['jti'] as string);
    });
  }

  async function missingRecords(revocations: readonly AuditedRevocation[]): Promise<number> {
    const keys = [...new Set(recordKeys(revocations))];
    return keys.length - Number(await cluster.redis.cli('EXISTS', ...keys));
  }

  beforeAll(async () => {
    await cluster.start();
    const run = new FaultRun(cluster);
    try {
      await run.start();
      epochBefore = await cluster.redis.cli('GET', cluster.key('rev', 'epoch'));
      killedAt = performance.now();
      await cluster.redis.kill();
      cluster.wipeRedisData();
      await cluster.redis.restart();
      backAt = performance.now();
      readyAgainMs = await FaultRun.timeUntilReady(
        cluster,
        backAt,
        READY_AGAIN_BOUND_MS,
        'every replica to be ready again after Redis came back empty',
      );
      // No revocation can return while Redis is down: these were all made before the loss.
      revokedBeforeLoss = run.auditor.allRevocations.filter((r) => r.returnedAtMs < backAt);
      await waitFor(async () => (await missingRecords(revokedBeforeLoss)) === 0, {
        timeoutMs: WRITTEN_BACK_BOUND_MS,
        description: 'every revocation made before the loss to be written back',
      });
      writtenBackMs = performance.now() - backAt;
      await run.revocationsMade();
    } finally {
      totals = await run.finish();
    }
    const readyAt = backAt + readyAgainMs;
    verdicts = run.verdicts({
      designed503: (request) =>
        request.route !== 'me' && request.doneAtMs >= killedAt && request.sentAtMs <= readyAt,
    });
    epochAfter = await cluster.redis.cli('GET', cluster.key('rev', 'epoch'));
    revokedTokens = [...run.auditor.revokedTokensInOrder];
    for (const client of cluster.clients) {
      storeResets.push(
        metricValue(await client.metrics(), 'rescind_resyncs_total', 'cause="store-reset"'),
      );
    }
  });

  afterAll(async () => {
    if (verdicts !== undefined) {
      console.log(
        scenarioLine({
          scenario: '4 redis-restart-empty',
          traffic: totals,
          verdict: verdicts.strict,
          nothingLost: verdicts.nothingLost,
          faults: `redis-server SIGKILL, data dir wiped, restarted empty (down ${Math.round(backAt - killedAt)} ms), ${revokedBeforeLoss.length} revocations made before the loss`,
          recovery: {
            'all ready after Redis back ms': readyAgainMs,
            'all written back after Redis back ms': writtenBackMs,
            'store-reset resyncs per replica': storeResets.join('/'),
            'replica started afterwards rejected': `${freshReplicaStatuses.filter((s) => s === 401).length}/${freshReplicaStatuses.length}`,
          },
        }),
      );
    }
    await cluster.stop();
  });

  it('accepts no revoked token later than 100 ms after its revocation returned (at once on the replica that made it)', () => {
    expect(verdicts.strict.revokedPresented).toBeGreaterThan(100);
    expect(verdicts.strict.acceptedLate).toEqual([]);
  });

  it('loses nothing: a replica that missed events while reconnecting enforces them once it is ready again', () => {
    expect(verdicts.nothingLost.acceptedLate).toEqual([]);
  });

  it('answers no 5xx but the designed 503s of logins and logouts while Redis is down, and rejects no valid token', () => {
    expect(verdicts.strict.unexpected5xx).toEqual([]);
    expect(verdicts.strict.unexpectedNoAnswer).toEqual([]);
    expect(verdicts.strict.validRejected).toEqual([]);
  });

  it(`has every replica ready again within ${READY_AGAIN_BOUND_MS} ms of Redis being back`, () => {
    expect(readyAgainMs).toBeLessThan(READY_AGAIN_BOUND_MS);
  });

  it('notices that the store is not the one it hydrated from: a new epoch, a store-reset resync on every replica', () => {
    expect(epochBefore).not.toBe('');
    expect(epochAfter).not.toBe('');
    expect(epochAfter).not.toBe(epochBefore);
    for (const resets of storeResets) expect(resets).toBeGreaterThanOrEqual(1);
  });

  it('wrote every live revocation back to Redis (records and index)', async () => {
    expect(revokedBeforeLoss.length).toBeGreaterThan(10);
    expect(await missingRecords(revokedBeforeLoss)).toBe(0);
    expect(
      Number(await cluster.redis.cli('ZCARD', cluster.key('rev', 'index'))),
    ).toBeGreaterThanOrEqual(new Set(recordKeys(revokedBeforeLoss)).size);
  });

  it('lets a replica started afterwards reject every revoked token, and accept a fresh login', async () => {
    const replica = await cluster.addReplica();
    await replica.ready(30_000);
    const fresh = cluster.clients[cluster.clients.length - 1] as ApiClient;
    freshReplicaStatuses = [];
    for (let i = 0; i < revokedTokens.length; i += 16) {
      const batch = revokedTokens.slice(i, i + 16);
      freshReplicaStatuses.push(
        ...(await Promise.all(batch.map(async (token) => (await fresh.me(token)).status))),
      );
    }
    expect(freshReplicaStatuses).toEqual(revokedTokens.map(() => 401));
    const token = await fresh.registerAndLogin(newCredentials('after-loss'));
    expect((await fresh.me(token)).status).toBe(200);
  });
});
