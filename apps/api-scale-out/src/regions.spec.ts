import { performance } from 'node:perf_hooks';
import {
  acceptedBeyond,
  type ApiClient,
  claimsOf,
  elapsed,
  formatSummary,
  freePort,
  metricValue,
  newCredentials,
  summarize,
  TcpProxy,
  TestCluster,
  timeUntilRejected,
  waitFor,
  type Rejection,
} from '@rescind/testing';
import { Redis } from 'ioredis';

/** Each way between the regions: a round trip of 80 ms, as between two continents. */
const WAN_DELAY_MS = 40;
/** Logouts timed from one region to the other. */
const SAMPLES = 40;
/** Fan-out within a region (README, "Guarantees and their limits"). */
const FAN_OUT_BOUND_MS = 100;
/**
 * A logout in one region is rejected by the other's replicas within the link's round trip plus
 * the fan-out bound (README, "Several regions").
 */
const CROSS_REGION_BOUND_MS = 2 * WAN_DELAY_MS + FAN_OUT_BOUND_MS;
/** A probe gives up well after the bound, so that a miss reads as a figure, not a timeout. */
const PROBE_TIMEOUT_MS = 3_000;
/** Revocations made at once in one region, and how many requests are in flight at a time. */
const BURST = 2_000;
const BURST_IN_FLIGHT = 20;
/**
 * A backlog read one revocation per round trip would take BURST × 80 ms = 160 s to cross;
 * batches of 500 per read take a handful of round trips. A bound far below the first, with room
 * for the bridge's start and a busy machine.
 */
const BURST_BOUND_MS = 20_000;
/** How long the link between the regions stays cut. */
const CUT_MS = 10_000;
const PREFIX = `so-regions-${process.pid}`;
const ADMIN_API_KEY = 'so-regions-admin-key';

/** One region: its own Redis, two API replicas and a worker whose bridge follows the other. */
interface Region {
  readonly name: string;
  readonly cluster: TestCluster;
  /** The other region's way to this region's Redis, across the simulated WAN. */
  readonly wan: TcpProxy;
  readonly metricsPort: number;
}

describe('two regions, one revocation list (REGION, PEER_REGIONS)', () => {
  let a: Region;
  let b: Region;
  const figures: string[] = [];

  async function region(name: string): Promise<Region> {
    const cluster = new TestCluster({
      suite: 'so',
      name: `region-${name}`,
      prefix: PREFIX,
      replicas: 2,
      env: { REGION: name, ADMIN_API_KEY },
    });
    await cluster.start();
    const wan = await TcpProxy.start(cluster.redis.port, '127.0.0.1', 0, {
      delayMs: WAN_DELAY_MS,
    });
    return { name, cluster, wan, metricsPort: await freePort() };
  }

  async function startBridge(here: Region, peer: Region): Promise<void> {
    await here.cluster.startWorker({
      PEER_REGIONS: `${peer.name}=${peer.wan.url()}`,
      WORKER_METRICS_PORT: String(here.metricsPort),
    });
  }

  async function bridgeMetric(here: Region, name: string): Promise<number | undefined> {
    const text = await (await fetch(`http://127.0.0.1:${here.metricsPort}/metrics`)).text();
    return metricValue(text, name);
  }

  /** A user of `here` signed in there: a token every region accepts (one signing key). */
  async function tokenOf(here: Region): Promise<string> {
    return (here.cluster.clients[0] as ApiClient).registerAndLogin(newCredentials(here.name));
  }

  /** `count` tokens of users of `here`, signed in one after the other (logins are bounded). */
  async function tokensOf(here: Region, count: number): Promise<string[]> {
    const tokens: string[] = [];
    for (let i = 0; i < count; i++) tokens.push(await tokenOf(here));
    return tokens;
  }

  async function rejectedBy(token: string, where: Region): Promise<boolean> {
    const answers = await Promise.all(where.cluster.clients.map((client) => client.check(token)));
    return answers.every((answer) => answer === 'revoked');
  }

  /** Whether `here`'s bridge follows its peer's log live: link up, nothing left to apply. */
  async function following(here: Region): Promise<boolean> {
    return (
      (await bridgeMetric(here, 'rescind_bridge_link_up')) === 1 &&
      (await bridgeMetric(here, 'rescind_bridge_lag_seconds')) === 0
    );
  }

  beforeAll(async () => {
    [a, b] = await Promise.all([region('a'), region('b')]);
    await Promise.all([startBridge(a, b), startBridge(b, a)]);
    // The bound is for a link in normal operation: a bridge connecting across the WAN (a few
    // round trips) and reading its peer's live set first is not that.
    await waitFor(async () => (await following(a)) && (await following(b)), {
      timeoutMs: 20_000,
      description: 'both bridges following their peer live',
    });
  });

  afterAll(async () => {
    console.log(`regions figures:\n  ${figures.join('\n  ')}`);
    for (const r of [a, b]) await r?.wan.close();
    await Promise.allSettled([a?.cluster.stop(), b?.cluster.stop()]);
  });

  it(`rejects in one region a logout made in the other within the round trip plus fan-out (${CROSS_REGION_BOUND_MS} ms)`, async () => {
    for (const [from, to] of [
      [a, b],
      [b, a],
    ] as const) {
      const rejections: Rejection[] = [];
      let last = '';
      for (let i = 0; i < SAMPLES; i++) {
        const token = await tokenOf(from);
        last = token;
        expect(await to.cluster.clients[0]?.check(token)).toBe('200');
        await (from.cluster.clients[i % 2] as ApiClient).logout(token);
        const since = performance.now();
        rejections.push(
          ...(await Promise.all(
            to.cluster.clients.map((client) =>
              timeUntilRejected(client, token, since, PROBE_TIMEOUT_MS, 'revoked'),
            ),
          )),
        );
      }
      const summary = summarize(elapsed(rejections));
      const late = acceptedBeyond(rejections, CROSS_REGION_BOUND_MS);
      figures.push(
        `logout in ${from.name} → rejected by each of ${to.name}'s replicas ` +
          `(RTT ${2 * WAN_DELAY_MS} ms): ${formatSummary(summary)}; ` +
          `accepted after ${CROSS_REGION_BOUND_MS} ms: ${late.length}`,
      );
      // A breach is a request sent after the bound that was still accepted: robust on a busy
      // machine, unlike a bound on the time the answer came back.
      expect(late).toEqual([]);
      expect(summary.p50).toBeLessThan(CROSS_REGION_BOUND_MS);
      // Recorded there as it was made, from the log: the logout's reason and actor, and where.
      const { sid, sub } = claimsOf(last);
      const detail = await (to.cluster.clients[0] as ApiClient).request(
        `/admin/revocations/${encodeURIComponent(String(sid))}?kind=session`,
        { headers: { authorization: `Bearer ${ADMIN_API_KEY}` } },
      );
      expect(detail.status).toBe(200);
      expect(detail.json).toMatchObject({
        kind: 'session',
        id: sid,
        reason: 'logout',
        actor: sub,
        origin: from.name,
      });
    }
  });

  it('keeps both regions serving and revoking through a 10 s cut, then converges', async () => {
    const inA = await tokenOf(a);
    const inB = await tokenOf(b);
    const cutAt = performance.now();
    a.wan.reset();
    b.wan.reset();
    await (a.cluster.clients[0] as ApiClient).logout(inA);
    await (b.cluster.clients[1] as ApiClient).logout(inB);
    // For the whole cut: every replica ready, its own region's logout enforced, fresh logins work.
    let rounds = 0;
    while (performance.now() - cutAt < CUT_MS) {
      expect(await a.cluster.allReady()).toBe(true);
      expect(await b.cluster.allReady()).toBe(true);
      expect(await rejectedBy(inA, a)).toBe(true);
      expect(await rejectedBy(inB, b)).toBe(true);
      expect(await b.cluster.clients[0]?.check(await tokenOf(b))).toBe('200');
      rounds++;
    }
    expect(await bridgeMetric(a, 'rescind_bridge_link_up')).toBe(0);
    const lagSeconds = (await bridgeMetric(b, 'rescind_bridge_lag_seconds')) ?? 0;
    a.wan.heal();
    b.wan.heal();
    const healedAt = performance.now();
    await waitFor(async () => (await rejectedBy(inA, b)) && (await rejectedBy(inB, a)), {
      timeoutMs: 20_000,
      intervalMs: 20,
      description: 'each region rejecting the logout the other made during the cut',
    });
    figures.push(
      `cut ${CUT_MS / 1000} s (${rounds} rounds of checks served): lag before healing ` +
        `${lagSeconds.toFixed(1)} s; converged ${(performance.now() - healedAt).toFixed(0)} ms after healing`,
    );
    await waitFor(async () => (await bridgeMetric(a, 'rescind_bridge_link_up')) === 1, {
      timeoutMs: 10_000,
      description: "A's link up again",
    });
  });

  it('loses nothing when a bridge is killed (SIGKILL) mid-stream', async () => {
    const tokens = await tokensOf(a, 30);
    let done = 0;
    const stream = (async () => {
      for (const token of tokens) {
        await (a.cluster.clients[done % 2] as ApiClient).logout(token);
        done++;
      }
    })();
    await waitFor(() => done >= 5, { timeoutMs: 10_000, description: 'the stream under way' });
    await b.cluster.worker.kill();
    const killedAfter = done;
    await stream;
    await b.cluster.worker.restart();
    const restartedAt = performance.now();
    await waitFor(
      async () => (await Promise.all(tokens.map((token) => rejectedBy(token, b)))).every(Boolean),
      { timeoutMs: 20_000, intervalMs: 50, description: 'every logout of A rejected in B' },
    );
    figures.push(
      `bridge SIGKILLed after ${killedAfter} of 30 logouts: all rejected in b ` +
        `${(performance.now() - restartedAt).toFixed(0)} ms after its restart`,
    );
  });

  it('re-seeds a region whose Redis came back empty from its peer', async () => {
    const tokens = await tokensOf(a, 10);
    for (const token of tokens) await (a.cluster.clients[0] as ApiClient).logout(token);
    await waitFor(
      async () => (await Promise.all(tokens.map((token) => rejectedBy(token, b)))).every(Boolean),
      { timeoutMs: 20_000, description: "A's logouts rejected in B" },
    );
    await b.cluster.redis.stop();
    b.cluster.wipeRedisData();
    await b.cluster.redis.restart();
    const restartedAt = performance.now();
    const redis = new Redis(b.cluster.redis.url);
    try {
      // A logout ends the token's session: its record is the session's.
      const records = tokens.map((token) => `${PREFIX}:rev:s:${String(claimsOf(token)['sid'])}`);
      await waitFor(async () => (await redis.exists(...records)) === records.length, {
        timeoutMs: 30_000,
        intervalMs: 50,
        description: "B's emptied Redis holding A's revocations again",
      });
      figures.push(
        `b's Redis restarted empty: re-seeded with a's revocations ` +
          `${(performance.now() - restartedAt).toFixed(0)} ms after it was back`,
      );
      // And the link from B to A still works: a logout in B reaches A.
      await b.cluster.waitAllReady(30_000, "B's replicas ready on the new data set");
      const inB = await tokenOf(b);
      await (b.cluster.clients[0] as ApiClient).logout(inB);
      await waitFor(() => rejectedBy(inB, a), {
        timeoutMs: 20_000,
        description: 'a logout in the re-seeded region rejected in A',
      });
    } finally {
      redis.disconnect();
    }
  });

  it(`carries a backlog of ${BURST} revocations across in batches, not one per round trip`, async () => {
    const exp = Math.floor(Date.now() / 1000) + 3600;
    const jtis = Array.from({ length: BURST }, (_, i) => `burst-${process.pid}-${i}`);
    const admin = a.cluster.clients[0] as ApiClient;
    // B's bridge is down while A revokes: the whole burst waits in A's log, read in batches.
    await b.cluster.worker.kill();
    const startedAt = performance.now();
    for (let i = 0; i < jtis.length; i += BURST_IN_FLIGHT) {
      const answers = await Promise.all(
        jtis.slice(i, i + BURST_IN_FLIGHT).map((jti) =>
          admin.request('/admin/revocations', {
            method: 'POST',
            headers: {
              authorization: `Bearer ${ADMIN_API_KEY}`,
              'content-type': 'application/json',
            },
            body: JSON.stringify({ jti, exp, reason: 'burst' }),
          }),
        ),
      );
      expect(answers.map((answer) => answer.status)).toEqual(answers.map(() => 201));
    }
    const madeAt = performance.now();
    await b.cluster.worker.restart();
    const restartedAt = performance.now();
    const redis = new Redis(b.cluster.redis.url);
    try {
      const records = jtis.map((jti) => `${PREFIX}:rev:t:${jti}`);
      await waitFor(async () => (await redis.exists(...records)) === records.length, {
        timeoutMs: BURST_BOUND_MS,
        intervalMs: 20,
        description: `all ${BURST} revocations of the burst recorded in b`,
      });
    } finally {
      redis.disconnect();
    }
    figures.push(
      `burst of ${BURST} revocations made in a in ${(madeAt - startedAt).toFixed(0)} ms ` +
        `while b's bridge was down: all recorded in b ` +
        `${(performance.now() - restartedAt).toFixed(0)} ms after its restart`,
    );
  });
});
