import { type Revocation } from '@rescind/revocation-core';
import { RedisServer, TcpProxy, waitFor } from '@rescind/testing';
import { Redis } from 'ioredis';
import { session, token, user } from '../testing/store-fixtures';
import { type ConnectionLogger } from './connection-log';
import { RedisKeys } from './redis-keys';
import { RegionBridge } from './region-bridge';
import { RevocationStore } from './revocation-store';

/** One region of the test: its own Redis (no persistence: a restart empties it) and store. */
interface Region {
  readonly name: string;
  readonly server: RedisServer;
  redis: Redis;
  store: RevocationStore;
}

const keys = new RedisKeys('rvk');
const WAIT = { timeoutMs: 15_000, intervalMs: 10 };

describe('RegionBridge (two regions, each with its own Redis process)', () => {
  let a: Region;
  let b: Region;
  const bridges: RegionBridge[] = [];
  const lines: string[] = [];
  const logger: ConnectionLogger = {
    warn: (message) => lines.push(`WARN ${message}`),
    log: (message) => lines.push(message),
  };

  async function region(name: string): Promise<Region> {
    const server = await RedisServer.start({ appendonly: false });
    const redis = new Redis(server.url);
    const store = new RevocationStore(redis, keys, { region: name });
    // As a region's replicas do when they start: its data set exists before any bridge reads it.
    await store.readHead();
    return { name, server, redis, store };
  }

  /** A bridge in `to` following `from` (at `url`, its Redis by default), started. */
  function bridge(to: Region, from: Region, batchSize = 500, url = from.server.url): RegionBridge {
    const started = new RegionBridge({ name: from.name, redisUrl: url }, to.store, to.redis, keys, {
      logger,
      blockMs: 200,
      batchSize,
    });
    bridges.push(started);
    started.start();
    return started;
  }

  async function held(where: Region, revocation: Revocation): Promise<boolean> {
    const [record] = await where.store.find(revocation.id, [revocation.kind]);
    if (record === undefined) return false;
    return (
      revocation.kind !== 'user' ||
      (record.kind === 'user' && record.cutoffMs >= revocation.cutoffMs)
    );
  }

  async function holdsAll(where: Region, revocations: readonly Revocation[]): Promise<boolean> {
    for (const revocation of revocations) if (!(await held(where, revocation))) return false;
    return true;
  }

  const seqOf = async (where: Region): Promise<number> =>
    Number((await where.redis.get(keys.seq)) ?? 0);

  beforeEach(async () => {
    lines.length = 0;
    [a, b] = await Promise.all([region('a'), region('b')]);
  });

  afterEach(async () => {
    await Promise.all(bridges.splice(0).map((started) => started.stop()));
    for (const r of [a, b]) {
      r?.redis.disconnect();
      await r?.server.dispose();
    }
  });

  it('applies what a peer revokes, marked with the peer as origin', async () => {
    bridge(a, b);
    const made = [token('jti-1'), session('sid-1'), user('alice', Date.now())];
    for (const revocation of made) await b.store.revoke(revocation, { reason: 'logout' });
    await waitFor(() => holdsAll(a, made), { ...WAIT, description: 'A holds what B revoked' });
    const records = await a.store.find('jti-1', ['token']);
    expect(records[0]).toMatchObject({ origin: 'b' });
    const marked = await a.store.readMarkedAfter('0-0', 10);
    expect(marked.map((m) => m.origin)).toEqual(['b', 'b', 'b']);
  });

  it('records what a peer revokes with the reason and actor it was made with', async () => {
    const ba = bridge(b, a);
    // Following A's log: what A revokes next reaches B from its log entries, not a re-read.
    await waitFor(() => ba.status().position !== undefined, { ...WAIT, description: 'positioned' });
    const made = [token('stolen-jti'), session('stolen-sid'), user('mallory', Date.now())];
    for (const revocation of made) {
      await a.store.revoke(revocation, { reason: 'stolen', actor: 'admin' });
    }
    await waitFor(() => holdsAll(b, made), { ...WAIT, description: 'B holds what A revoked' });
    for (const { kind, id } of made) {
      expect(await b.store.find(id, [kind])).toEqual([
        expect.objectContaining({ kind, id, reason: 'stolen', actor: 'admin', origin: 'a' }),
      ]);
    }
    expect((await b.store.list(10)).items).toEqual(
      made.map(() => expect.objectContaining({ reason: 'stolen', actor: 'admin', origin: 'a' })),
    );
    expect(ba.status().rereads).toBe(1);
  });

  it('records an entry logged without reason and actor as replicated by the bridge', async () => {
    const ba = bridge(b, a);
    await waitFor(() => ba.status().position !== undefined, { ...WAIT, description: 'positioned' });
    // Logged with its origin but no audit trail, as a build before the trail crossed wrote it.
    const bare = token('made-without-audit');
    await a.store.revoke(bare);
    // Logged without regions: the entry carries neither origin nor audit trail.
    const unmarked = token('made-before-regions');
    await new RevocationStore(a.redis, keys).revoke(unmarked, { reason: 'logout', actor: 'self' });
    await waitFor(() => holdsAll(b, [bare, unmarked]), { ...WAIT, description: 'both applied' });
    for (const { id } of [bare, unmarked]) {
      expect((await b.store.find(id, ['token']))[0]).toMatchObject({
        reason: 'replicated',
        actor: 'bridge',
        origin: 'a',
      });
    }
    expect(ba.status().rereads).toBe(1);
  });

  it('never echoes back: with a bridge each way, each revocation is logged once per region', async () => {
    const ab = bridge(a, b);
    const ba = bridge(b, a);
    const inA = token('made-in-a');
    const inB = token('made-in-b');
    await a.store.revoke(inA);
    await b.store.revoke(inB);
    await waitFor(async () => (await held(a, inB)) && (await held(b, inA)), {
      ...WAIT,
      description: 'both regions hold both revocations',
    });
    // Both bridges have read past everything the other region logged, echoes included.
    await waitFor(
      async () =>
        ab.status().position?.seq === (await seqOf(b)) &&
        ba.status().position?.seq === (await seqOf(a)),
      { ...WAIT, description: 'both bridges at their peer head' },
    );
    expect([await seqOf(a), await seqOf(b)]).toEqual([2, 2]);
    expect([ab.status().appliedTotal, ba.status().appliedTotal]).toEqual([1, 1]);
    expect(ab.status()).toMatchObject({ linkUp: true, lagEntries: 0, lagMs: 0 });
  });

  it('steps over what the peer applied from elsewhere: that origin’s own bridge brings it', async () => {
    const ab = bridge(a, b);
    await waitFor(() => ab.status().position !== undefined, { ...WAIT, description: 'positioned' });
    const fromC = token('made-in-c');
    const unmarked = token('made-before-regions');
    await b.store.revoke(fromC, { origin: 'c' });
    await new RevocationStore(b.redis, keys).revoke(unmarked);
    await waitFor(() => held(a, unmarked), { ...WAIT, description: 'the unmarked one applied' });
    await waitFor(() => ab.status().position?.seq === 2, { ...WAIT, description: 'past both' });
    expect(await held(a, fromC)).toBe(false);
    expect((await a.store.find(unmarked.id, ['token']))[0]?.origin).toBe('b');
  });

  it('with three regions peering with each other, brings each revocation everywhere once', async () => {
    const c = await region('c');
    try {
      const all = [a, b, c];
      for (const to of all) for (const from of all) if (to !== from) bridge(to, from);
      const made = [token('in-a'), session('in-b'), user('in-c', Date.now())];
      await a.store.revoke(made[0] as Revocation);
      await b.store.revoke(made[1] as Revocation);
      await c.store.revoke(made[2] as Revocation);
      for (const where of all) {
        await waitFor(() => holdsAll(where, made), {
          ...WAIT,
          description: `${where.name} holds all`,
        });
      }
      // Every bridge at its peer's head, and every log holds each revocation once: no echo.
      await waitFor(
        async () => {
          for (const started of bridges) {
            const peer = all.find((r) => r.name === started.peer.name) as Region;
            if (started.status().position?.seq !== (await seqOf(peer))) return false;
          }
          return true;
        },
        { ...WAIT, description: 'every bridge at its peer head' },
      );
      for (const where of all) expect(await seqOf(where)).toBe(3);
      for (const where of all) {
        const origins = (await where.store.readMarkedAfter('0-0', 10)).map((m) => m.origin);
        expect(origins.sort()).toEqual(['a', 'b', 'c']);
      }
    } finally {
      await Promise.all(bridges.splice(0).map((started) => started.stop()));
      c.redis.disconnect();
      await c.server.dispose();
    }
  });

  it('keeps the later cut-off whichever region made it, in both regions', async () => {
    const now = Date.now();
    const earlier = user('bob', now - 10_000);
    const later = user('bob', now);
    await a.store.revoke(later);
    await b.store.revoke(earlier);
    bridge(a, b);
    bridge(b, a);
    await waitFor(() => held(b, later), { ...WAIT, description: 'B takes the later cut-off' });
    // A read B's earlier cut-off and refused it: the write path keeps the later one.
    await waitFor(async () => bridges[0]?.status().position?.seq === (await seqOf(b)), {
      ...WAIT,
      description: "A's bridge past B's entries",
    });
    const [inA] = await a.store.find('bob', ['user']);
    expect(inA).toMatchObject({ kind: 'user', cutoffMs: later.cutoffMs });
  });

  it('applies the same entries again without change (idempotent)', async () => {
    const made = [token('t-1'), session('s-1'), user('carol', Date.now())];
    for (const revocation of made) await b.store.revoke(revocation);
    const first = bridge(a, b);
    await waitFor(() => holdsAll(a, made), { ...WAIT, description: 'A holds all' });
    await first.stop();
    const seq = await seqOf(a);
    // Forget the position: the next bridge re-reads B's live set and applies it all again.
    await a.redis.del(keys.bridgePosition('b'));
    const again = bridge(a, b);
    await waitFor(() => again.status().position?.seq === 3, {
      ...WAIT,
      description: 'the second bridge at B’s head',
    });
    expect(again.status()).toMatchObject({ rereads: 1, appliedTotal: 0 });
    expect(await seqOf(a)).toBe(seq);
  });

  it('resumes from its saved position after a restart, losing nothing', async () => {
    const first = bridge(a, b);
    await b.store.revoke(token('before'));
    await waitFor(() => held(a, token('before')), { ...WAIT, description: 'first applied' });
    await first.stop();
    const missed = Array.from({ length: 30 }, (_, i) => token(`while-away-${i}`));
    for (const revocation of missed) await b.store.revoke(revocation);
    const second = bridge(a, b, 7);
    await waitFor(() => holdsAll(a, missed), { ...WAIT, description: 'everything missed' });
    // From the position, in batches: no re-read of the live set.
    expect(second.status()).toMatchObject({ rereads: 0, appliedTotal: 30 });
  });

  it('re-reads the live set when the peer trimmed its log past the position', async () => {
    const first = bridge(a, b);
    await b.store.revoke(token('kept'));
    await waitFor(() => held(a, token('kept')), { ...WAIT, description: 'first applied' });
    await first.stop();
    const missed = [token('trimmed-1'), user('dave', Date.now()), session('trimmed-s')];
    for (const revocation of missed) await b.store.revoke(revocation);
    await b.redis.xtrim(keys.log, 'MAXLEN', 0);
    const second = bridge(a, b);
    await waitFor(() => holdsAll(a, missed), { ...WAIT, description: 'the trimmed ones' });
    expect(second.status().rereads).toBe(1);
    expect(
      lines.some((line) => line.includes('re-reading its live revocations (trimmed log)')),
    ).toBe(true);
  });

  it('re-seeds a region whose Redis came back empty, and follows its new epoch', async () => {
    const ab = bridge(a, b);
    bridge(b, a);
    const fromA = token('from-a');
    const fromB = user('erin', Date.now());
    await a.store.revoke(fromA);
    await b.store.revoke(fromB);
    await waitFor(async () => (await held(a, fromB)) && (await held(b, fromA)), {
      ...WAIT,
      description: 'both hold both',
    });
    const oldEpoch = ab.status().position?.epoch;
    await b.server.restart(); // no persistence: B comes back empty
    // B's bridge lost its position with B's data: it re-reads A's live set, B's own included.
    await waitFor(() => holdsAll(b, [fromA, fromB]), { ...WAIT, description: 'B re-seeded' });
    const [restored] = await b.store.find('erin', ['user']);
    expect(restored?.origin).toBe('b');
    // A's bridge sees B's new epoch, re-reads it, and follows what B revokes next.
    const after = token('after-restart');
    await b.store.revoke(after);
    await waitFor(() => held(a, after), { ...WAIT, description: 'A follows B again' });
    // Applied first, saved after: the new epoch's position follows the application.
    await waitFor(() => ab.status().position?.epoch !== oldEpoch, {
      ...WAIT,
      description: 'A positioned on B’s new epoch',
    });
  });

  it('creates nothing in a peer that holds no data under its KEY_PREFIX, says so, and lags', async () => {
    // B's replicas and bridge use another prefix: under "rvk" its Redis holds nothing.
    await b.redis.flushall();
    const elsewhere = new RevocationStore(b.redis, new RedisKeys('other'), { region: 'b' });
    await elsewhere.revoke(token('under-another-prefix'));
    const ab = bridge(a, b);
    await waitFor(() => ab.status().linkUp, { ...WAIT, description: 'link up' });
    await waitFor(() => lines.some((line) => line.includes('KEY_PREFIX "rvk"')), {
      ...WAIT,
      description: 'the bridge saying what it waits for',
    });
    const [before] = [ab.status().lagMs];
    await waitFor(() => ab.status().lagMs > before + 300, { ...WAIT, description: 'lag growing' });
    expect(await b.redis.keys('rvk:*')).toEqual([]);
    expect(ab.status()).toMatchObject({ rereads: 0, appliedTotal: 0 });
    expect(lines.filter((line) => line.includes('KEY_PREFIX'))).toHaveLength(1);
    // Once something of B starts under the shared prefix, the bridge re-reads and follows it.
    const shared = token('under-the-shared-prefix');
    await b.store.revoke(shared);
    await waitFor(() => held(a, shared), { ...WAIT, description: 'followed once B has data' });
    expect(ab.status().rereads).toBe(1);
  });

  it('reports the link down while the peer is away, and follows again once it is back', async () => {
    const ab = bridge(a, b);
    await waitFor(() => ab.status().linkUp, { ...WAIT, description: 'link up' });
    await b.server.stop();
    await waitFor(() => !ab.status().linkUp, { ...WAIT, description: 'link down' });
    expect(ab.status().lagMs).toBeGreaterThanOrEqual(0);
    await b.server.restart();
    await b.store.revoke(token('after-outage'));
    await waitFor(() => held(a, token('after-outage')), { ...WAIT, description: 'applied' });
    await waitFor(() => lines.includes('bridge from region b: following again'), {
      ...WAIT,
      description: 'the line saying it follows again',
    });
    // Once per change of state, not per attempt.
    const warnings = lines.filter((line) => line.startsWith('WARN bridge from region b'));
    expect(warnings).toHaveLength(1);
    expect(lines.filter((line) => line.endsWith('following again'))).toHaveLength(1);
  });

  it('notices a link that silently drops everything, and catches up once it heals', async () => {
    const link = await TcpProxy.start(b.server.port);
    try {
      const ab = bridge(a, b, 500, link.url());
      await waitFor(() => ab.status().position !== undefined, {
        ...WAIT,
        description: 'following',
      });
      link.blackhole();
      const made = token('during-the-blackhole');
      await b.store.revoke(made);
      // A read is timed out after the block time plus 2 s: the link is then reported down.
      await waitFor(() => !ab.status().linkUp, { ...WAIT, description: 'link down' });
      expect(await held(a, made)).toBe(false);
      expect(ab.status().lagMs).toBeGreaterThan(0);
      link.heal();
      await waitFor(() => held(a, made), { ...WAIT, description: 'applied after healing' });
      await waitFor(() => ab.status().linkUp && ab.status().lagMs === 0, {
        ...WAIT,
        description: 'link up and caught up',
      });
    } finally {
      await Promise.all(bridges.splice(0).map((started) => started.stop()));
      await link.close();
    }
  });
});
