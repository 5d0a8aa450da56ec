import { performance } from 'node:perf_hooks';
import { metricValue } from '@rescind/testing';
import { FaultRun, type RunVerdicts } from './support/fault-run';
import { type TrafficTotals } from './support/steady-traffic';
import { clientList, clientsOf } from './support/redis-clients';
import { RevocationBurst } from './support/revocation-burst';

/** Redis drops a subscriber more than 1 KB behind (hard), or 512 B behind for 1 s (soft). */
const TINY_PUBSUB_LIMIT = 'pubsub 1kb 512b 1';
/** The anti-entropy period of the replicas (the default, stated for the bound below). */
const SYNC_INTERVAL_MS = 1_000;
const FAN_OUT_BOUND_MS = 100;
/**
 * The frozen replica's bound: it may accept what it could not hear while frozen, but it must
 * reject every token revoked before (or while) it was frozen from this long after it resumed:
 * the fan-out bound plus one anti-entropy period.
 */
const RESUMED_BOUND_MS = FAN_OUT_BOUND_MS + SYNC_INTERVAL_MS;
/** Revocations written per step of the burst, until Redis has dropped the frozen subscriber. */
const BURST_STEP = 1_000;
/** Give up (the limit did not bite) after this many. */
const BURST_MAX = 40_000;
/** The frozen replica is ready again within this long after it resumed. */
const READY_AGAIN_BOUND_MS = 5_000;
const C = 2;

describe(`when a subscriber is too slow and Redis cuts it off (client-output-buffer-limit ${TINY_PUBSUB_LIMIT})`, () => {
  const cluster = FaultRun.cluster('slow-subscriber', {
    env: { SYNC_INTERVAL_MS: String(SYNC_INTERVAL_MS) },
  });
  let verdicts: RunVerdicts;
  let totals: TrafficTotals;
  let frozenAt = Number.NaN;
  let resumedAt = Number.NaN;
  let frozenMs = Number.NaN;
  let readyAfterResumeMs = Number.NaN;
  let readyAt = Number.NaN;
  let burstEvents = 0;
  let droppedSubscriber = false;
  let othersDropped = 0;
  const cacheEntries: number[] = [];

  beforeAll(async () => {
    await cluster.start();
    await cluster.redis.cli('CONFIG', 'SET', 'client-output-buffer-limit', TINY_PUBSUB_LIMIT);
    const frozen = cluster.replicas[C];
    if (frozen === undefined) throw new Error('no replica c');
    const run = new FaultRun(cluster);
    const burst = new RevocationBurst(cluster.redis.url, cluster.prefix);
    try {
      await run.start();
      const [subscription] = await clientsOf(cluster.redis, frozen.pid, 'pubsub');
      if (subscription === undefined) throw new Error('replica c holds no pub/sub connection');
      const othersBefore = (await clientList(cluster.redis, 'pubsub')).filter(
        (client) => client['id'] !== subscription['id'],
      );

      frozen.process.signal('SIGSTOP');
      frozenAt = performance.now();
      try {
        const stillSubscribed = async (): Promise<boolean> =>
          (await clientList(cluster.redis, 'pubsub')).some(
            (client) => client['id'] === subscription['id'],
          );
        // One revocation at a time: Redis then publishes one event per turn, which a healthy
        // subscriber takes at once; only the frozen one falls behind.
        while ((await stillSubscribed()) && burst.count < BURST_MAX)
          await burst.write(BURST_STEP, 1);
        droppedSubscriber = !(await stillSubscribed());
        burstEvents = burst.count;
      } finally {
        frozen.process.signal('SIGCONT');
        resumedAt = performance.now();
        frozenMs = resumedAt - frozenAt;
      }
      const ids = new Set(
        (await clientList(cluster.redis, 'pubsub')).map((client) => client['id']),
      );
      othersDropped = othersBefore.filter((client) => !ids.has(client['id'])).length;

      await cluster.waitAllReady(READY_AGAIN_BOUND_MS, 'the frozen replica to be ready again', [C]);
      readyAt = performance.now();
      readyAfterResumeMs = readyAt - resumedAt;
      await run.revocationsMade();
    } finally {
      totals = await run.finish();
      await burst.close();
    }
    verdicts = run.verdicts({
      fanOutBoundMs: FAN_OUT_BOUND_MS,
      acceptableUntil: (request, _revocation, standard) =>
        request.replica === C ? Math.max(standard, resumedAt + RESUMED_BOUND_MS) : standard,
      // Requests to the frozen replica wait for it; the slowest may time out.
      mayGoUnanswered: (request) => request.replica === C && request.sentAtMs < resumedAt,
      // Frozen past MAX_STALENESS_MS (5 s by default, counted from its last confirmed sync), it
      // fails closed until its first catch-up after the resume.
      designed503: (request) => request.replica === C && request.sentAtMs < readyAt,
    });
    for (const client of cluster.clients) {
      cacheEntries.push(metricValue(await client.metrics(), 'rescind_cache_entries') ?? Number.NaN);
    }
  });

  FaultRun.afterScenario(
    cluster,
    () => ({ verdicts, totals }),
    () => ({
      scenario: '2 slow-subscriber',
      faults: `replica c frozen (SIGSTOP) ${Math.round(frozenMs)} ms while ${burstEvents.toLocaleString('en-US')} revocations were published; Redis dropped its subscription: ${droppedSubscriber}; other subscribers dropped: ${othersDropped}`,
      recovery: {
        'c ready after resume ms': readyAfterResumeMs,
        'cache entries a/b/c': cacheEntries.join('/'),
      },
    }),
  );

  it('cut the frozen subscriber off (the limit bit)', () => {
    expect(droppedSubscriber).toBe(true);
  });

  FaultRun.judge(() => verdicts, {
    strict: `accepts no revoked token later than its bound (100 ms; on the frozen replica ${RESUMED_BOUND_MS} ms after it resumed)`,
    nothingLost: 'loses nothing: every replica enforces what it missed once it is ready again',
    clean: 'answers no 5xx and never rejects a token nobody revoked',
  });

  it(`has the frozen replica ready again within ${READY_AGAIN_BOUND_MS} ms of resuming`, () => {
    expect(readyAfterResumeMs).toBeLessThan(READY_AGAIN_BOUND_MS);
  });

  it('caught up with everything published while it was frozen: every replica holds the same revocations', () => {
    expect(cacheEntries[C]).toBe(cacheEntries[0]);
    expect(cacheEntries[1]).toBe(cacheEntries[0]);
    expect(cacheEntries[0]).toBeGreaterThanOrEqual(burstEvents);
  });
});
