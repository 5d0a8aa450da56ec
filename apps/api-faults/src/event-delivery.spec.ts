import { performance } from 'node:perf_hooks';
import {
  type ApiClient,
  claimsOf,
  metricValue,
  newCredentials,
  type Rejection,
  timeUntilRejected,
} from '@rescind/testing';
import { EventForger, type ForgedEvent } from './support/event-forger';
import { FaultRun, type RunVerdicts } from './support/fault-run';
import { scenarioLine } from './support/scenario-summary';
import { type TrafficTotals } from './support/steady-traffic';

const FAN_OUT_BOUND_MS = 100;
/** A probe gives up (and fails the test) when a token is still accepted after this long. */
const PROBE_TIMEOUT_MS = 3_000;
const REPLICAS = [0, 1, 2];

/** The counters of one replica that tell how events were handled. */
interface Counters {
  applied: number;
  entries: number;
  malformed: number;
  gapResyncs: number;
  storeResets: number;
}

describe('when revocation events are delivered twice, out of order, with a gap, far ahead, or malformed', () => {
  const cluster = FaultRun.cluster('events');
  let run: FaultRun;
  let forger: EventForger;
  let verdicts: RunVerdicts;
  let totals: TrafficTotals;
  const figures: Record<string, string> = {};
  let malformedSent = 0;

  async function counters(): Promise<Counters[]> {
    return Promise.all(
      cluster.clients.map(async (client) => {
        const text = await client.metrics();
        return {
          applied: metricValue(text, 'rescind_propagation_seconds_count') ?? Number.NaN,
          entries: metricValue(text, 'rescind_cache_entries') ?? Number.NaN,
          malformed: metricValue(text, 'rescind_malformed_events_total') ?? Number.NaN,
          gapResyncs: metricValue(text, 'rescind_resyncs_total', { cause: 'gap' }) ?? 0,
          storeResets: metricValue(text, 'rescind_resyncs_total', { cause: 'store-reset' }) ?? 0,
        };
      }),
    );
  }

  function delta(after: Counters[], before: Counters[], key: keyof Counters): number[] {
    return after.map((counters, index) => counters[key] - (before[index] as Counters)[key]);
  }

  /** Fresh tokens of one fresh user, logged in on replica a. */
  async function freshTokens(count: number, tag: string): Promise<string[]> {
    const a = cluster.clients[0] as ApiClient;
    const credentials = newCredentials(tag);
    const tokens = [await a.registerAndLogin(credentials)];
    while (tokens.length < count) tokens.push(await a.login(credentials));
    return tokens;
  }

  /**
   * A real logout on replica a, probed on b and c until rejected: a sync point (Redis delivers
   * a channel's messages in publish order, so whatever was published before has been handled)
   * and a check that the replicas' log positions still follow live events.
   */
  async function marker(): Promise<{ token: string; returnedAt: number; rejections: Rejection[] }> {
    const [token] = await freshTokens(1, 'marker');
    const answer = await (cluster.clients[0] as ApiClient).logoutAnswer(token as string);
    if (answer.status !== 204) throw new Error(`marker logout answered ${answer.status}`);
    run.auditor.revoked({
      via: 'logout',
      tokens: [token as string],
      origin: 0,
      startedAtMs: answer.sentAtMs,
      returnedAtMs: answer.doneAtMs,
    });
    const rejections = await Promise.all(
      [1, 2].map((replica) =>
        timeUntilRejected(
          run.auditor.target(replica),
          token as string,
          answer.doneAtMs,
          PROBE_TIMEOUT_MS,
          'not-accepted',
        ),
      ),
    );
    return { token: token as string, returnedAt: answer.doneAtMs, rejections };
  }

  /** Probes each token on every replica until rejected. */
  async function rejectionsOf(tokens: readonly string[], returnedAt: number): Promise<Rejection[]> {
    return (
      await Promise.all(
        tokens.flatMap((token) =>
          REPLICAS.map((replica) =>
            timeUntilRejected(
              run.auditor.target(replica),
              token,
              returnedAt,
              PROBE_TIMEOUT_MS,
              'not-accepted',
            ),
          ),
        ),
      )
    ).flat();
  }

  const lateOf = (rejections: readonly Rejection[]): Rejection[] =>
    rejections.filter((rejection) => (rejection.lastAcceptedSentMs ?? 0) > FAN_OUT_BOUND_MS);
  const worst = (rejections: readonly Rejection[]): string =>
    `accepted until ${Math.round(Math.max(...rejections.map((r) => r.lastAcceptedSentMs ?? 0)))} ms, ` +
    `rejected by ${Math.round(Math.max(...rejections.map((r) => r.elapsedMs)))} ms`;

  async function statusesEverywhere(tokens: readonly string[]): Promise<number[]> {
    return (
      await Promise.all(
        cluster.clients.map((client) =>
          Promise.all(tokens.map(async (token) => (await client.me(token)).status)),
        ),
      )
    ).flat();
  }

  beforeAll(async () => {
    await cluster.start();
    forger = new EventForger(cluster.redis, cluster.prefix);
    // Valid reads and probes of revoked tokens go on throughout; the revocations are the test's.
    run = new FaultRun(cluster, { revokers: 0 });
    await run.start(0);
  });

  afterAll(async () => {
    if (run === undefined) return cluster.stop();
    totals = await run.finish();
    verdicts = run.verdicts();
    console.log(
      scenarioLine({
        scenario: '7 event-delivery',
        traffic: totals,
        verdict: verdicts.strict,
        nothingLost: verdicts.nothingLost,
        faults: `events re-published twice, out of order, logged but never published, published far ahead; ${malformedSent} malformed messages`,
        recovery: figures,
      }),
    );
    await cluster.stop();
  });

  it('applies an event delivered twice only once', async () => {
    const tokens = await freshTokens(3, 'twice');
    for (const token of tokens)
      expect((await (cluster.clients[0] as ApiClient).logoutAnswer(token)).status).toBe(204);
    const head = Number(await cluster.redis.cli('GET', cluster.key('rev', 'seq')));
    await marker();
    const before = await counters();
    const events = await forger.logged(head - 3);
    for (const event of events.slice(0, 3)) {
      await forger.publish(forger.message(event));
      await forger.publish(forger.message(event));
    }
    await marker();
    const after = await counters();
    // Only the marker changed anything: one entry everywhere, applied from the channel on b and c.
    expect(delta(after, before, 'entries')).toEqual([1, 1, 1]);
    expect(delta(after, before, 'applied')).toEqual([0, 1, 1]);
    expect(delta(after, before, 'gapResyncs')).toEqual([0, 0, 0]);
    expect(delta(after, before, 'storeResets')).toEqual([0, 0, 0]);
    expect(await statusesEverywhere(tokens)).toEqual(Array(9).fill(401));
  });

  it('applies events delivered out of order as if they had come in order', async () => {
    const tokens = await freshTokens(3, 'disorder');
    const before = await counters();
    const startedAt = performance.now();
    const events: ForgedEvent[] = [];
    for (const token of tokens) events.push(await forger.append(token));
    for (const index of [2, 0, 1])
      await forger.publish(forger.message(events[index] as ForgedEvent));
    const returnedAt = performance.now();
    run.auditor.revoked({
      via: 'crafted',
      tokens,
      origin: -1,
      startedAtMs: startedAt,
      returnedAtMs: returnedAt,
    });
    const rejections = await rejectionsOf(tokens, returnedAt);
    figures['out of order (after the last publish):'] = worst(rejections);
    expect(lateOf(rejections)).toEqual([]);
    const { rejections: afterwards } = await marker();
    expect(lateOf(afterwards)).toEqual([]);
    const after = await counters();
    expect(delta(after, before, 'entries')).toEqual([4, 4, 4]);
    expect(delta(after, before, 'storeResets')).toEqual([0, 0, 0]);
    // Usually through a gap catch-up; an anti-entropy round between the writes and the
    // publishes may have got there first, which is just as good.
    figures['out of order: gap catch-ups a/b/c'] = delta(after, before, 'gapResyncs').join('/');
  });

  it('catches up an event that was logged but never published as soon as the next one arrives', async () => {
    const [token] = await freshTokens(1, 'gap');
    const before = await counters();
    const startedAt = performance.now();
    await forger.append(token as string);
    const { returnedAt, rejections: markerRejections } = await marker();
    run.auditor.revoked({
      via: 'crafted',
      tokens: [token as string],
      origin: -1,
      startedAtMs: startedAt,
      returnedAtMs: returnedAt,
    });
    const rejections = await rejectionsOf([token as string], returnedAt);
    figures['gap (after the next event returned):'] = worst(rejections);
    expect(lateOf([...rejections, ...markerRejections])).toEqual([]);
    const after = await counters();
    expect(delta(after, before, 'entries')).toEqual([2, 2, 2]);
    figures['gap: gap catch-ups a/b/c'] = delta(after, before, 'gapResyncs').join('/');
  });

  it('is not derailed by an event far ahead of the log: later events still fan out within 100 ms, no reset', async () => {
    const [token] = await freshTokens(1, 'ahead');
    const before = await counters();
    const [last] = await forger.logged(
      Number(await cluster.redis.cli('GET', cluster.key('rev', 'seq'))) - 1,
    );
    const claims = claimsOf(token as string);
    const ahead: ForgedEvent = {
      v: 1,
      epoch: (last as ForgedEvent).epoch,
      seq: (last as ForgedEvent).seq + 1_000,
      logId: '9999999999999-0',
      kind: 'token',
      id: claims['jti'] as string,
      expiresAtMs: (claims['exp'] as number) * 1000,
      createdAtMs: Date.now(),
    };
    await forger.publish(forger.message(ahead));
    const first = await marker();
    const second = await marker();
    expect(lateOf([...first.rejections, ...second.rejections])).toEqual([]);
    const after = await counters();
    expect(delta(after, before, 'storeResets')).toEqual([0, 0, 0]);
    expect(await cluster.allReady()).toBe(true);
    figures['far ahead: its token on a/b/c'] = (await statusesEverywhere([token as string])).join(
      '/',
    );
  });

  it('ignores malformed messages, counts each one, never crashes, and never un-revokes anything', async () => {
    const [revoked] = await freshTokens(1, 'kept');
    const [everywhere] = await freshTokens(1, 'kept-all');
    const [untouched] = await freshTokens(1, 'untouched');
    const a = cluster.clients[0] as ApiClient;
    expect((await a.logoutAnswer(revoked as string)).status).toBe(204);
    expect((await a.logoutAllAnswer(everywhere as string)).status).toBe(204);
    const logged = await forger.logged(
      Number(await cluster.redis.cli('GET', cluster.key('rev', 'seq'))) - 2,
    );
    const [tokenEvent, userEvent] = logged as [ForgedEvent, ForgedEvent & { cutoffMs: number }];
    const channel = forger.channel;
    const untouchedClaims = claimsOf(untouched as string);
    const valid = {
      ...tokenEvent,
      id: untouchedClaims['jti'] as string,
      seq: tokenEvent.seq + 2,
      logId: '9999999999998-0',
    };
    const data = (fields: object): string =>
      JSON.stringify({ pattern: channel, data: { ...tokenEvent, ...fields } });
    const malformed: string[] = [
      'not json at all {{{',
      '',
      '42',
      'null',
      '[1,2,3]',
      '"a string"',
      JSON.stringify({ pattern: channel }),
      JSON.stringify({ pattern: channel, data: null }),
      data({ id: 12345 }),
      data({ seq: '5' }),
      data({ seq: -1 }),
      data({ v: 0 }),
      data({ kind: 'unrevoke' }),
      data({ expiresAtMs: -1 }),
      data({ logId: 'not-a-log-id' }),
      data({ epoch: 'has spaces in it' }),
      data({ kind: 'user', cutoffMs: undefined, id: 'someone' }),
      JSON.stringify({
        pattern: channel,
        data: JSON.parse(`{"__proto__":{"kind":"token"},"v":1}`) as object,
      }),
      // A request packet of the NestJS transport (it has an `id`) is not an event, even with a valid one inside.
      JSON.stringify({ pattern: channel, data: valid, id: 'request-1' }),
      data({ id: 'x'.repeat(1024 * 1024) }),
      '['.repeat(5_000) + ']'.repeat(5_000),
    ];
    // Valid in shape, they try to shorten or undo: harmless, since a revocation only ever grows.
    const undoing = [
      data({ expiresAtMs: Date.now() - 1_000 }),
      JSON.stringify({
        pattern: channel,
        data: { ...userEvent, cutoffMs: 0, expiresAtMs: Date.now() + 1 },
      }),
    ];
    const before = await counters();
    for (const message of [...malformed, ...undoing]) await forger.publish(message);
    malformedSent = malformed.length;
    await marker();
    const after = await counters();

    expect(delta(after, before, 'malformed')).toEqual([
      malformed.length,
      malformed.length,
      malformed.length,
    ]);
    for (const replica of cluster.replicas) expect(replica.process.running).toBe(true);
    expect(await cluster.allReady()).toBe(true);
    expect(await statusesEverywhere([revoked as string, everywhere as string])).toEqual(
      Array(6).fill(401),
    );
    // The event inside the request packet was not applied.
    expect(await statusesEverywhere([untouched as string])).toEqual([200, 200, 200]);
    const everyRevoked = run.auditor.revokedTokensInOrder;
    expect((await statusesEverywhere(everyRevoked)).filter((status) => status !== 401)).toEqual([]);
  });

  it('accepted no revoked token late, answered no 5xx and rejected no valid token throughout', async () => {
    const interim = run.verdicts();
    expect(interim.strict.revokedPresented).toBeGreaterThan(20);
    expect(interim.strict.acceptedLate).toEqual([]);
    expect(interim.strict.unexpected5xx).toEqual([]);
    expect(interim.strict.unexpectedNoAnswer).toEqual([]);
    expect(interim.strict.validRejected).toEqual([]);
  });
});
