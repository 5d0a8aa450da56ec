import { performance } from 'node:perf_hooks';
import { type ApiClient, claimsOf, metricValue, newCredentials } from '@rescind/testing';
import { FaultRun, type RunVerdicts } from './support/fault-run';
import { type TrafficTotals } from './support/steady-traffic';
import { type AuditedRevocation } from './support/revocation-auditor';

/** Every replica is ready again within this long after Redis is back. */
const READY_AGAIN_BOUND_MS = 10_000;

describe('when Redis comes back EMPTY (killed, data dir wiped, restarted on the same port)', () => {
  const cluster = FaultRun.cluster('redis-empty');
  let verdicts: RunVerdicts;
  let totals: TrafficTotals;
  let epochBefore: string;
  let epochAfter: string;
  let killedAt = Number.NaN;
  let backAt = Number.NaN;
  let readyAgainMs = Number.NaN;
  let notBeforeMs = Number.NaN;
  let revokedBeforeLoss: readonly AuditedRevocation[] = [];
  let revokedTokens: readonly string[] = [];
  const storeResets: number[] = [];
  let freshReplicaStatuses: number[] = [];
  /** A token nobody revoked, issued before the loss. */
  let bystander: string;

  /** Whether the token was issued at or before the store-wide not-before of the new store. */
  function issuedBeforeNotBefore(token: string): boolean {
    return Math.ceil((claimsOf(token)['iat'] as number) * 1000) <= notBeforeMs;
  }

  beforeAll(async () => {
    const run = await FaultRun.begin(cluster);
    try {
      epochBefore = await cluster.redis.cli('GET', cluster.key('rev', 'epoch'));
      bystander = await (cluster.clients[0] as ApiClient).registerAndLogin(
        newCredentials('bystander'),
      );
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
      notBeforeMs = Number(await cluster.redis.cli('GET', cluster.key('rev', 'not-before')));
      await run.revocationsMade();
    } finally {
      totals = await run.finish();
    }
    const readyAt = backAt + readyAgainMs;
    verdicts = run.verdicts({
      designed503: (request) =>
        request.route !== 'me' && request.doneAtMs >= killedAt && request.sentAtMs <= readyAt,
      // Fail-safe by design: the new store revokes every token issued before it existed.
      designedRejection: (request) =>
        request.doneAtMs >= killedAt && issuedBeforeNotBefore(request.token as string),
    });
    epochAfter = await cluster.redis.cli('GET', cluster.key('rev', 'epoch'));
    revokedTokens = [...run.auditor.revokedTokensInOrder];
    for (const client of cluster.clients) {
      storeResets.push(
        metricValue(await client.metrics(), 'rescind_resyncs_total', { cause: 'store-reset' }) ?? 0,
      );
    }
  });

  FaultRun.afterScenario(
    cluster,
    () => ({ verdicts, totals }),
    () => ({
      scenario: '4 redis-restart-empty',
      faults: `redis-server SIGKILL, data dir wiped, restarted empty (down ${Math.round(backAt - killedAt)} ms), ${revokedBeforeLoss.length} revocations made before the loss`,
      recovery: {
        'all ready after Redis back ms': readyAgainMs,
        'store-reset resyncs per replica': storeResets.join('/'),
        'replica started afterwards rejected': `${freshReplicaStatuses.filter((s) => s === 401).length}/${freshReplicaStatuses.length}`,
      },
    }),
  );

  FaultRun.judge(() => verdicts, {
    clean:
      'answers no 5xx but the designed 503s of logins and logouts while Redis is down, and rejects no valid token issued after the loss',
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

  it('fails safe: the new store revokes every token issued before it, counted on every replica', async () => {
    expect(revokedBeforeLoss.length).toBeGreaterThan(10);
    for (const revocation of revokedBeforeLoss) {
      for (const token of revocation.tokens) expect(issuedBeforeNotBefore(token)).toBe(true);
    }
    for (const client of cluster.clients) {
      expect(
        metricValue(await client.metrics(), 'rescind_fail_safe_total', { cause: 'store' }),
      ).toBe(1);
    }
    // The store cannot vouch for tokens issued before it existed, so the ones nobody revoked go
    // too: everyone signs in again once (docs/revocation-model.md, "Store loss").
    expect(issuedBeforeNotBefore(bystander)).toBe(true);
    const bystanderStatuses = await Promise.all(
      cluster.clients.map(async (client) => (await client.me(bystander)).status),
    );
    expect(bystanderStatuses).toEqual(cluster.clients.map(() => 401));
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
