import { type RecordedPosition, RevocationStore } from '@rescind/revocation-redis';
import { deleteKeysWithPrefix, uniqueKeyPrefix, waitFor } from '@rescind/testing';
import { type RunningTestApp, startTestApp, testModuleOptions, waitUntilReady } from '../testing';
import { RevocationHealth } from './revocation-health';
import { RevocationPresence } from './revocation-presence';
import { RevocationService } from './revocation.service';

describe('fleet presence of two replicas sharing one Redis (Express and Fastify)', () => {
  const keyPrefix = uniqueKeyPrefix();
  const idA = `${keyPrefix}-a`;
  const idB = `${keyPrefix}-b`;
  let a: RunningTestApp;
  let b: RunningTestApp;

  beforeAll(async () => {
    [a, b] = await Promise.all([
      startTestApp(
        'express',
        testModuleOptions(keyPrefix, { instanceId: idA, region: 'eu', presenceHeartbeatMs: 200 }),
      ),
      // B's heartbeat never comes within a test: whatever B publishes, a change pushed it.
      startTestApp(
        'fastify',
        testModuleOptions(keyPrefix, { instanceId: idB, presenceHeartbeatMs: 600_000 }),
      ),
    ]);
    await waitUntilReady([a, b]);
  });

  afterAll(async () => {
    await Promise.allSettled([a?.app.close(), b?.app.close()]);
    await deleteKeysWithPrefix(keyPrefix);
  });

  const presence = (app: RunningTestApp): RevocationPresence => app.app.get(RevocationPresence);
  const instances = async (): Promise<string[]> =>
    (await presence(a).fleet()).map((status) => status.instance);

  it('lists both, sorted by instance, with their region when configured', async () => {
    await waitFor(
      async () => {
        const fleet = await presence(b).fleet();
        return fleet.length === 2 && fleet[0]?.ready === true;
      },
      { timeoutMs: 10_000, description: 'both replicas listed, A as ready' },
    );
    const [first, second] = await presence(b).fleet();
    expect(first).toEqual({
      instance: idA,
      region: 'eu',
      log_position: { epoch: expect.any(String), seq: expect.any(Number) },
      ready: true,
      in_sync: true,
      staleness_ms: expect.any(Number),
      cache_entries: expect.any(Number),
      reported_at: expect.any(String),
      started_at: expect.any(String),
    });
    expect(second?.instance).toBe(idB);
    expect(second).not.toHaveProperty('region');
  });

  it('records the region of the replica that revoked as its origin, none without one', async () => {
    await a.app.get(RevocationService).revokeToken('origin-a-jti', Date.now() + 60_000);
    await b.app.get(RevocationService).revokeToken('origin-b-jti', Date.now() + 60_000);
    const store = a.app.get(RevocationStore);
    expect((await store.find('origin-a-jti', ['token']))[0]?.origin).toBe('eu');
    expect((await store.find('origin-b-jti', ['token']))[0]).not.toHaveProperty('origin');
  });

  it('publishes a revocation made on one replica as confirmed by both, as positions move', async () => {
    await a.app.get(RevocationService).revokeToken('presence-jti', Date.now() + 60_000);
    const [record] = await a.app.get(RevocationStore).find('presence-jti', ['token']);
    const position = record?.position as RecordedPosition;
    expect(position).toEqual({ epoch: expect.any(String), seq: expect.any(Number) });
    const confirmed = await waitFor(
      async () => {
        const answer = await presence(b).confirmations({
          position,
          createdAtMs: record?.createdAtMs ?? 0,
        });
        return answer.confirmedBy === 2 ? answer : undefined;
      },
      { timeoutMs: 5_000, intervalMs: 5, description: 'both replicas to confirm' },
    );
    expect(confirmed).toEqual({
      confirmedBy: 2,
      readyReplicas: 2,
      replicas: [
        { instance: idA, confirmed: true },
        { instance: idB, confirmed: true },
      ],
    });
  });

  it('reports a draining replica not ready at once, and removes it on a clean shutdown', async () => {
    b.app.get(RevocationHealth).drain();
    await waitFor(
      async () => (await presence(a).fleet()).find((s) => s.instance === idB)?.ready === false,
      { timeoutMs: 5_000, description: 'B listed as not ready' },
    );
    await b.app.close();
    expect(await instances()).toEqual([idA]);
  });
});
