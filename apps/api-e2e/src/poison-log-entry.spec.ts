import { ApiClient, metricValue, TestCluster, userWithTokens, waitFor } from '@rescind/testing';

/** A fresh revocation reaches every replica and they stay ready. */
const RECOVERY_TIMEOUT_MS = 5_000;

describe('when the revocation log holds entries this build cannot read', () => {
  const cluster = new TestCluster({ suite: 'e2e', name: 'poison-entry' });
  let replicas: ApiClient[];

  beforeAll(async () => {
    await cluster.start();
    replicas = cluster.urls.map((url) => new ApiClient(url));
  });

  afterAll(() => cluster.stop());

  it('steps over them: later revocations still reach every replica, which stay ready, and counts them', async () => {
    const [a, b] = replicas as [ApiClient, ApiClient];
    const { tokens } = await userWithTokens(a, replicas, 2, 'poison');
    const log = cluster.key('rev', 'log');
    // Garbage, and an entry of a later build with a kind this one does not know, as a rolling
    // upgrade could write; neither is published, so every replica meets them in a catch-up.
    await cluster.redis.cli('XADD', log, '*', 'e', '{not json');
    const seq = Number(await cluster.redis.cli('INCR', cluster.key('rev', 'seq')));
    await cluster.redis.cli('XADD', log, '*', 'e', JSON.stringify({ v: 2, seq, kind: 'session' }));

    await b.logout(tokens[0] as string);

    await waitFor(
      async () => {
        const answers = await Promise.all(replicas.map((c) => c.meStatus(tokens[0] as string)));
        const ready = await Promise.all(replicas.map((c) => c.isReady()));
        return answers.every((status) => status === 401) && ready.every(Boolean);
      },
      { timeoutMs: RECOVERY_TIMEOUT_MS, description: 'every replica to reject it, and be ready' },
    );
    expect(await Promise.all(replicas.map((c) => c.meStatus(tokens[1] as string)))).toEqual([
      200, 200, 200,
    ]);
    for (const client of replicas) {
      await waitFor(
        async () =>
          (metricValue(await client.metrics(), 'rescind_malformed_events_total') ?? 0) >= 1,
        { timeoutMs: RECOVERY_TIMEOUT_MS, description: 'the unreadable entries to be counted' },
      );
      expect(await client.isReady()).toBe(true);
    }
  });
});
