import { RedisKeys, RevocationStore } from '@rescind/revocation-redis';
import { freePort, metricValue, RedisServer, waitFor, WorkerProcess } from '@rescind/testing';
import { Redis } from 'ioredis';

// Runs the built worker (`npm run build` first) with a peer region, as a deployment would.
describe('the worker with a peer region (PEER_REGIONS)', () => {
  const keys = new RedisKeys('rvk');
  let here: RedisServer;
  let peer: RedisServer;
  let hereRedis: Redis;
  let peerRedis: Redis;
  let worker: WorkerProcess;
  let metricsPort: number;

  beforeAll(async () => {
    [here, peer] = await Promise.all([
      RedisServer.start({ appendonly: false }),
      RedisServer.start({ appendonly: false }),
    ]);
    hereRedis = new Redis(here.url);
    peerRedis = new Redis(peer.url);
    metricsPort = await freePort();
    worker = await WorkerProcess.start({
      env: {
        REDIS_URL: here.url,
        REGION: 'eu',
        PEER_REGIONS: `us=${peer.url}`,
        WORKER_METRICS_PORT: String(metricsPort),
      },
      readyTimeoutMs: 20_000,
    });
  }, 40_000);

  afterAll(async () => {
    await worker?.kill();
    hereRedis?.disconnect();
    peerRedis?.disconnect();
    await Promise.all([here?.dispose(), peer?.dispose()]);
  });

  const peerStore = (): RevocationStore => new RevocationStore(peerRedis, keys, { region: 'us' });
  const revokeInPeer = (id: string) =>
    peerStore().revoke({
      kind: 'token',
      id,
      expiresAtMs: Date.now() + 3_600_000,
      createdAtMs: Date.now(),
    });
  const heldHere = async (ids: readonly string[]): Promise<number> =>
    (await hereRedis.mget(...ids.map((id) => keys.record('token', id)))).filter((v) => v !== null)
      .length;
  const metrics = async (): Promise<string> =>
    (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();

  it('applies what the peer revokes and reports the link on /metrics', async () => {
    const ids = Array.from({ length: 20 }, (_, i) => `peer-${i}`);
    for (const id of ids) await revokeInPeer(id);
    await waitFor(async () => (await heldHere(ids)) === ids.length, {
      timeoutMs: 15_000,
      description: 'every revocation of the peer held here',
    });
    const text = await waitFor(
      async () => {
        const body = await metrics();
        return metricValue(body, 'rescind_bridge_applied_total', { peer: 'us' }) === 20
          ? body
          : undefined;
      },
      { timeoutMs: 10_000, description: 'the applied count on /metrics' },
    );
    expect(metricValue(text, 'rescind_bridge_link_up', { peer: 'us' })).toBe(1);
    expect(metricValue(text, 'rescind_bridge_lag_entries', { peer: 'us' })).toBe(0);
    expect(metricValue(text, 'rescind_bridge_lag_seconds', { peer: 'us' })).toBeDefined();
    expect(metricValue(text, 'rescind_bridge_position_seq', { peer: 'us' })).toBe(20);
  }, 30_000);

  it('resumes after SIGKILL mid-stream without losing a revocation', async () => {
    const ids = Array.from({ length: 300 }, (_, i) => `stream-${i}`);
    const writing = (async () => {
      for (const id of ids) await revokeInPeer(id);
    })();
    await waitFor(async () => (await heldHere(ids)) >= 20, {
      timeoutMs: 15_000,
      description: 'the bridge applying the stream',
    });
    await worker.kill();
    await writing;
    await worker.restart();
    await waitFor(async () => (await heldHere(ids)) === ids.length, {
      timeoutMs: 20_000,
      description: 'every revocation of the stream held here after the restart',
    });
    // Resumed from its saved position: no re-read of the peer's live set.
    expect(worker.process.tail()).not.toMatch(/re-reading/);
  }, 60_000);
});
