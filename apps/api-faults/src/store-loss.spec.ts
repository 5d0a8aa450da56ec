import {
  ApiClient,
  inBatches,
  metricValue,
  type TestCluster,
  userWithTokens,
  waitFor,
} from '@rescind/testing';
import { FaultRun } from './support/fault-run';

const READY_TIMEOUT_MS = 30_000;

/** Kills Redis, wipes its data directory and starts it again, empty, on the same port. */
async function loseEverything(cluster: TestCluster): Promise<void> {
  await cluster.redis.kill();
  cluster.wipeRedisData();
  await cluster.redis.restart();
}

async function statuses(tokens: readonly string[], on: readonly ApiClient[]): Promise<number[]> {
  const perReplica = await Promise.all(
    on.map((client) => inBatches(tokens, 8, (token) => client.meStatus(token))),
  );
  return perReplica.flat();
}

describe('when Redis loses its data while replicas hold revocations (README, "Nothing lost")', () => {
  describe('and a replica starts while the others are frozen', () => {
    const cluster = FaultRun.cluster('store-loss-frozen', {
      worker: undefined,
      replicas: 2,
    });

    beforeAll(() => cluster.start());
    afterAll(() => cluster.stop());

    it('has every replica reject the logged-out token, the one started meanwhile included', async () => {
      const [a, b] = cluster.urls.map((url) => new ApiClient(url)) as [ApiClient, ApiClient];
      const { tokens } = await userWithTokens(a, [a, b], 1, 'frozen');
      const stolen = tokens[0] as string;
      await a.logout(stolen);
      expect(await statuses([stolen], [a, b])).toEqual([401, 401]);

      for (const replica of cluster.replicas) replica.process.signal('SIGSTOP');
      try {
        await loseEverything(cluster);
        const started = await cluster.addReplica();
        await started.ready(READY_TIMEOUT_MS);
        const c = new ApiClient(started.url);
        // Frozen replicas hold the revocation but cannot tell anyone: c must not need them.
        expect(await c.meStatus(stolen)).toBe(401);
      } finally {
        for (const replica of cluster.replicas) replica.process.signal('SIGCONT');
      }
      const c = cluster.clients[2] as ApiClient;
      await waitFor(
        async () => (await Promise.all([a, b].map((client) => client.isReady()))).every(Boolean),
        { timeoutMs: READY_TIMEOUT_MS, description: 'a and b to be ready again' },
      );
      expect(await statuses([stolen], [a, b, c])).toEqual([401, 401, 401]);
    });
  });

  describe('and the replicas evicted most of them (REVOCATION_CACHE_MAX=2)', () => {
    const cluster = FaultRun.cluster('store-loss-evicted', {
      worker: undefined,
      replicas: 2,
      env: { REVOCATION_CACHE_MAX: '2' },
    });

    beforeAll(() => cluster.start());
    afterAll(() => cluster.stop());

    it('rejects all of them on every replica, fails safe for everyone, and counts it', async () => {
      const replicas = cluster.urls.map((url) => new ApiClient(url));
      const [a] = replicas as [ApiClient];
      const { tokens: loggedOut } = await userWithTokens(a, replicas, 5, 'evicted');
      const { tokens: valid } = await userWithTokens(a, replicas, 2, 'bystander');
      for (const token of loggedOut) await a.logout(token);
      expect(await statuses(loggedOut, replicas)).toEqual(Array(10).fill(401));

      await loseEverything(cluster);
      await waitFor(
        async () => (await Promise.all(replicas.map((client) => client.isReady()))).every(Boolean),
        { timeoutMs: READY_TIMEOUT_MS, description: 'every replica to be ready again' },
      );

      expect(await statuses(loggedOut, replicas)).toEqual(Array(10).fill(401));
      // Nobody can prove which tokens were revoked, so every token issued before the loss goes.
      expect(await statuses(valid, replicas)).toEqual(Array(4).fill(401));
      for (const client of replicas) {
        const metrics = await client.metrics();
        expect(metricValue(metrics, 'rescind_fail_safe_total', { cause: 'store' })).toBe(1);
      }
      // Signing in again works everywhere.
      const { tokens: fresh } = await userWithTokens(a, replicas, 2, 'after-loss');
      expect(await statuses(fresh, replicas)).toEqual(Array(4).fill(200));
    });
  });
});
