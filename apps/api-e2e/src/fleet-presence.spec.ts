import { performance } from 'node:perf_hooks';
import { type ApiReplica, type ApiResponse, send, TestCluster, waitFor } from '@rescind/testing';

const ADMIN_API_KEY = 'e2e-fleet-presence-admin-key';
const admin = { authorization: `Bearer ${ADMIN_API_KEY}`, 'content-type': 'application/json' };
/** The default heartbeat, and the TTL of a status: three of them (docs/design.md, "Fleet presence"). */
const HEARTBEAT_MS = 1_000;
const TTL_MS = 3 * HEARTBEAT_MS;
/** Slack for a loaded 2-core machine: the poll's own round trips, a slow event loop. */
const SLACK_MS = 2_000;

interface ReplicaItem {
  instance: string;
  region?: string;
  log_position: { epoch: string; seq: number } | null;
  ready: boolean;
  in_sync: boolean;
  staleness_ms: number;
  cache_entries: number;
  reported_at: string;
  started_at: string;
}

interface ReplicaList {
  items: ReplicaItem[];
  ready_count: number;
}

interface RevocationDetail {
  kind: string;
  id: string;
  reason: string | null;
  actor: string | null;
  origin: string | null;
  at: string;
  expiresAt: string;
  log_position?: { epoch: string; seq: number };
  confirmed_by: number;
  ready_replicas: number;
  replicas: { instance: string; confirmed: boolean }[];
}

describe('fleet presence of three replicas', () => {
  const cluster = new TestCluster({
    suite: 'e2e',
    name: 'fleet-presence',
    replicas: [{ env: { REGION: 'eu' } }, {}, {}],
    env: { ADMIN_API_KEY },
  });
  let a: string;
  let b: string;
  let names: string[];

  beforeAll(async () => {
    await cluster.start();
    [a, b] = cluster.urls as [string, string];
    names = cluster.replicas.map((replica) => replica.name);
  });

  afterAll(() => cluster.stop());

  const replicas = async (url = a): Promise<ReplicaList> => {
    const answer = await send<ReplicaList>(`${url}/admin/replicas`, { headers: admin });
    expect(answer.status).toBe(200);
    return answer.json as ReplicaList;
  };
  const detail = (id: string, query = '', url = b): Promise<ApiResponse<RevocationDetail>> =>
    send<RevocationDetail>(`${url}/admin/revocations/${encodeURIComponent(id)}${query}`, {
      headers: admin,
    });
  const revoke = async (body: Record<string, unknown>): Promise<void> => {
    const answer = await send(`${a}/admin/revocations`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify(body),
    });
    expect(answer.status).toBe(201);
  };
  /** Polls the revocation until `until` holds; the answer and the time it took. */
  const confirmation = async (
    id: string,
    until: (detail: RevocationDetail) => boolean,
    description: string,
    query = '',
  ): Promise<{ detail: RevocationDetail; ms: number }> => {
    const startedMs = performance.now();
    const found = await waitFor(
      async () => {
        const answer = await detail(id, query);
        return answer.status === 200 && until(answer.json as RevocationDetail)
          ? (answer.json as RevocationDetail)
          : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 5, description },
    );
    return { detail: found, ms: performance.now() - startedMs };
  };

  it('lists every replica, ready and in sync, sorted by instance, to administrators only', async () => {
    const list = await waitFor(
      async () => {
        const answer = await replicas();
        return answer.ready_count === 3 ? answer : undefined;
      },
      { timeoutMs: 15_000, description: 'three ready replicas listed' },
    );
    expect(list.items.map((item) => item.instance)).toEqual([...names].sort());
    const [first, second] = list.items;
    expect(first).toEqual({
      instance: names[0],
      region: 'eu',
      log_position: { epoch: expect.any(String), seq: expect.any(Number) },
      ready: true,
      in_sync: true,
      staleness_ms: expect.any(Number),
      cache_entries: expect.any(Number),
      reported_at: expect.any(String),
      started_at: expect.any(String),
    });
    expect(second).not.toHaveProperty('region');
    for (const item of list.items) {
      expect(item).toMatchObject({ ready: true, in_sync: true });
      expect(Date.parse(item.reported_at)).toBeGreaterThanOrEqual(Date.parse(item.started_at));
    }
    expect((await send(`${a}/admin/replicas`)).status).toBe(401);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['a token', { jti: 'presence-jti', exp: Math.floor(Date.now() / 1000) + 600 }, 'token'],
    ['a user cut-off', { sub: 'presence-user' }, 'user'],
    ['a session', { sid: 'presence-sid' }, 'session'],
  ])('counts %s as confirmed by every ready replica, promptly', async (_, body, kind) => {
    await revoke({ ...body, reason: 'presence test' });
    const id = String(body['jti'] ?? body['sub'] ?? body['sid']);
    const { detail: answer, ms } = await confirmation(
      id,
      (d) => d.confirmed_by === 3 && d.ready_replicas === 3,
      `${kind} ${id} confirmed by all three`,
    );
    console.log(`${kind} revocation confirmed by 3 of 3 ready replicas after ${ms.toFixed(0)} ms`);
    expect(answer).toEqual({
      kind,
      id,
      reason: 'presence test',
      actor: 'admin',
      // Revoked on the replica with REGION set.
      origin: 'eu',
      at: expect.any(String),
      expiresAt: expect.any(String),
      log_position: { epoch: expect.any(String), seq: expect.any(Number) },
      confirmed_by: 3,
      ready_replicas: 3,
      replicas: [...names].sort().map((instance) => ({ instance, confirmed: true })),
    });
    // Pushed as positions move (typically tens of ms); the bound allows a heartbeat and a busy
    // machine.
    expect(ms).toBeLessThan(HEARTBEAT_MS + SLACK_MS);
    const list = await send<{ items: { id: string; actor: string | null }[] }>(
      `${a}/admin/revocations?limit=1000`,
      { headers: admin },
    );
    expect(list.json?.items).toContainEqual(expect.objectContaining({ id, actor: 'admin' }));
  });

  it('shows where each revocation was made: the REGION of the replica, null without one', async () => {
    const exp = Math.floor(Date.now() / 1000) + 600;
    await revoke({ jti: 'origin-eu', exp }); // on the replica with REGION=eu
    const withoutRegion = await send(`${b}/admin/revocations`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({ jti: 'origin-none', exp }),
    });
    expect(withoutRegion.status).toBe(201);
    for (const url of [a, b]) {
      expect((await detail('origin-eu', '', url)).json).toMatchObject({ origin: 'eu' });
      expect((await detail('origin-none', '', url)).json).toMatchObject({ origin: null });
      const list = await send<{ items: { id: string; origin: string | null }[] }>(
        `${url}/admin/revocations?limit=1000`,
        { headers: admin },
      );
      expect(list.json?.items).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ id: 'origin-eu', origin: 'eu' }),
          expect.objectContaining({ id: 'origin-none', origin: null }),
        ]),
      );
    }
  });

  it('answers 404 for no live revocation, 400 for a bad id or kind, or an id of several kinds', async () => {
    expect((await detail('never-revoked')).status).toBe(404);
    expect((await detail('never-revoked')).json).toMatchObject({
      statusCode: 404,
      message: 'No live revocation has that id',
    });
    expect((await detail('x'.repeat(300))).status).toBe(400);
    expect((await detail('presence-jti', '?kind=everything')).status).toBe(400);
    expect((await detail('presence-jti', '?kind=user')).status).toBe(404);

    await revoke({ jti: 'shared-id', exp: Math.floor(Date.now() / 1000) + 600 });
    await revoke({ sub: 'shared-id' });
    const ambiguous = await detail('shared-id');
    expect(ambiguous.status).toBe(400);
    expect(ambiguous.text).toContain('several kinds');
    expect((await detail('shared-id', '?kind=user')).json?.kind).toBe('user');
  });

  it('does not count a frozen replica as confirming, and drops it once its status expires', async () => {
    const c = cluster.replicas[2] as ApiReplica;
    c.process.signal('SIGSTOP');
    const frozenAt = performance.now();
    try {
      await revoke({ jti: 'while-frozen', exp: Math.floor(Date.now() / 1000) + 600 });
      const { detail: whileListed } = await confirmation(
        'while-frozen',
        (d) => d.confirmed_by === 2,
        'the two running replicas to confirm',
      );
      const frozen = whileListed.replicas.find((r) => r.instance === c.name);
      // Listed (its status has not expired yet) or already gone: never confirming.
      if (frozen !== undefined) expect(frozen.confirmed).toBe(false);

      const { detail: afterExpiry } = await confirmation(
        'while-frozen',
        (d) => d.replicas.every((r) => r.instance !== c.name),
        'the frozen replica to leave the fleet',
      );
      const goneMs = performance.now() - frozenAt;
      console.log(`a frozen replica left the fleet ${goneMs.toFixed(0)} ms after SIGSTOP`);
      expect(goneMs).toBeLessThan(TTL_MS + SLACK_MS);
      expect(afterExpiry).toMatchObject({ confirmed_by: 2, ready_replicas: 2 });
    } finally {
      c.process.signal('SIGCONT');
    }
    // Thawed, it catches up, publishes again and confirms.
    await confirmation(
      'while-frozen',
      (d) => d.confirmed_by === 3 && d.ready_replicas === 3,
      'the thawed replica to confirm',
    );
  });

  it('removes a replica that shuts down cleanly at once, and a killed one within the TTL', async () => {
    const [, replicaB, replicaC] = cluster.replicas as [ApiReplica, ApiReplica, ApiReplica];
    expect(await replicaB.stop('SIGTERM')).toBe(0);
    // Removed before its connections closed: gone as soon as it exited.
    expect((await replicas()).items.map((item) => item.instance)).not.toContain(replicaB.name);

    await replicaC.kill();
    const killedAt = performance.now();
    await waitFor(
      async () => !(await replicas()).items.some((item) => item.instance === replicaC.name),
      { timeoutMs: TTL_MS + 10_000, intervalMs: 20, description: 'the killed replica to vanish' },
    );
    const goneMs = performance.now() - killedAt;
    console.log(`a killed replica left the fleet ${goneMs.toFixed(0)} ms after SIGKILL`);
    expect(goneMs).toBeLessThan(TTL_MS + SLACK_MS);
    expect(await replicas()).toMatchObject({ ready_count: 1, items: [{ instance: names[0] }] });
  });
});
