import { performance } from 'node:perf_hooks';
import {
  acceptedBeyond,
  ApiClient,
  elapsed,
  formatSummary,
  inBatches,
  metricValue,
  type Rejection,
  summarize,
  TestCluster,
  timeUntilRejected,
  userWithTokens,
  waitFor,
} from '@rescind/testing';

/** "Within a few seconds": the anti-entropy period is 1 s by default, reconnects take less. */
const RECOVERY_TIMEOUT_MS = 5_000;
const ROUNDS = 4;

describe('when Redis kills every pub/sub connection (CLIENT KILL TYPE pubsub)', () => {
  const cluster = new TestCluster({ suite: 'e2e', name: 'pubsub-kill' });
  let replicas: ApiClient[];

  beforeAll(async () => {
    await cluster.start();
    replicas = cluster.urls.map((url) => new ApiClient(url));
  });

  afterAll(() => cluster.stop());

  async function subscriberCount(): Promise<number> {
    const list = await cluster.redis.cli('CLIENT', 'LIST', 'TYPE', 'pubsub');
    return list.split('\n').filter((line) => line.trim() !== '').length;
  }

  it('still brings a revocation made right after the kill to every replica, and every replica back to ready', async () => {
    const { tokens } = await userWithTokens(replicas[0] as ApiClient, replicas, ROUNDS * 3, 'kill');
    const reachedAll: number[] = [];
    const readyAgain: number[] = [];

    for (let round = 0; round < ROUNDS; round++) {
      // One logout through each replica, fired the moment the kill has returned.
      const batch = tokens.slice(round * 3, round * 3 + 3);
      expect(await subscriberCount()).toBeGreaterThanOrEqual(3);

      const killed = Number(await cluster.redis.cli('CLIENT', 'KILL', 'TYPE', 'pubsub'));
      await Promise.all(batch.map((token, index) => (replicas[index] as ApiClient).logout(token)));
      const revokedAt = performance.now();
      expect(killed).toBeGreaterThanOrEqual(3);

      const delays = await Promise.all(
        replicas.flatMap((client) =>
          batch.map((token) => timeUntilRejected(client, token, revokedAt, RECOVERY_TIMEOUT_MS)),
        ),
      );
      reachedAll.push(Math.max(...elapsed(delays)));

      await waitFor(
        async () => (await Promise.all(replicas.map((c) => c.isReady()))).every(Boolean),
        {
          timeoutMs: RECOVERY_TIMEOUT_MS,
          description: 'every replica to be ready again after the kill',
        },
      );
      readyAgain.push(performance.now() - revokedAt);
    }

    console.log(
      `after CLIENT KILL TYPE pubsub: rejected everywhere after ms ${formatSummary(summarize(reachedAll))}; ` +
        `ready again after ms ${formatSummary(summarize(readyAgain))}`,
    );
  });

  it('has re-subscribed, so that fan-out is back within 100 ms rather than at the next catch-up', async () => {
    await waitFor(async () => (await subscriberCount()) >= 3, {
      timeoutMs: RECOVERY_TIMEOUT_MS,
      description: 'three pub/sub connections again',
    });
    const [a, b, c] = replicas as [ApiClient, ApiClient, ApiClient];
    const { tokens } = await userWithTokens(a, replicas, 10, 'after-kill');

    const rejections: Rejection[] = (
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

  it('counts the catch-ups that followed the re-subscriptions', async () => {
    // Kills that land while a replica is still reconnecting coalesce into one re-subscription,
    // so the count is anywhere from one to the number of kills; what the promise needs is that every
    // replica caught up after re-subscribing, and that the metric says so.
    for (const client of replicas) {
      const metrics = await client.metrics();
      const resubscribes = metrics
        .split('\n')
        .filter(
          (line) =>
            line.startsWith('rescind_resyncs_total{') && line.includes('cause="resubscribe"'),
        );
      expect(resubscribes.length).toBe(1);
      expect(metricValue(resubscribes.join('\n'), 'rescind_resyncs_total')).toBeGreaterThanOrEqual(
        1,
      );
    }
  });
});
