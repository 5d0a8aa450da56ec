import { performance } from 'node:perf_hooks';
import { setTimeout as pace } from 'node:timers/promises';
import {
  ApiClient,
  type ApiReplica,
  inBatches,
  type Readiness,
  TestCluster,
  userWithTokens,
  waitFor,
} from '@rescind/testing';

const REVOKED_WHILE_DOWN = 200;
const LOGOUT_PERIOD_MS = 10;

/** Collapses consecutive repeats: `refused×12 → 503×3 → 200`. */
function describeSequence(observed: readonly string[]): string {
  const runs: Array<{ value: string; count: number }> = [];
  for (const value of observed) {
    const last = runs[runs.length - 1];
    if (last !== undefined && last.value === value) last.count++;
    else runs.push({ value, count: 1 });
  }
  return runs.map(({ value, count }) => (count > 1 ? `${value}×${count}` : value)).join(' → ');
}

describe(`when replica C restarts after ${REVOKED_WHILE_DOWN} tokens were logged out while it was stopped`, () => {
  const cluster = new TestCluster({ suite: 'e2e', name: 'replica-restart' });
  let a: ApiClient;
  let b: ApiClient;
  let c: ApiClient;
  let replicaC: ApiReplica;
  let revoked: string[];
  let cutOff: string[];
  let valid: string[];
  /** `GET /health/ready` answers from C's restart until its first 200. */
  const readinessSeen: string[] = [];
  /** Revoked tokens C accepted at any moment of its start-up. */
  const acceptedWhileStarting: string[] = [];
  let firstReady: Readiness | undefined;

  beforeAll(async () => {
    await cluster.start();
    [a, b, c] = cluster.urls.map((url) => new ApiClient(url)) as [ApiClient, ApiClient, ApiClient];
    replicaC = cluster.replicas[2] as ApiReplica;

    revoked = (await userWithTokens(a, [a, b], REVOKED_WHILE_DOWN, 'restart')).tokens;
    const everywhere = await userWithTokens(b, [a, b], 4, 'restart-all');
    cutOff = everywhere.tokens;
    valid = (await userWithTokens(a, [a, b], 4, 'restart-valid')).tokens;
    expect(await Promise.all([...revoked.slice(0, 5), ...valid].map((t) => c.meStatus(t)))).toEqual(
      Array(9).fill(200),
    );

    expect(await replicaC.stop()).toBe(0);
    await inBatches(revoked, 8, (token, index) => (index % 2 === 0 ? a : b).logout(token));
    await a.logoutAll(cutOff[0] as string);

    await replicaC.restart();
    let probe = 0;
    firstReady = await waitFor(
      async () => {
        const sample = revoked[probe++ % revoked.length] as string;
        const [readiness, check] = await Promise.allSettled([c.readiness(), c.meStatus(sample)]);
        if (check.status === 'fulfilled' && check.value === 200) acceptedWhileStarting.push(sample);
        if (readiness.status === 'rejected' || readiness.value.status === 0) {
          readinessSeen.push('refused');
          return undefined;
        }
        readinessSeen.push(String(readiness.value.status));
        return readiness.value.status === 200 ? readiness.value.json : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 5, description: 'replica C to be ready after its restart' },
    );
  });

  afterAll(() => cluster.stop());

  it('is not ready before it has hydrated, and reports itself hydrated and caught up once it is', () => {
    console.log(`replica C readiness after restart: ${describeSequence(readinessSeen)}`);
    expect(readinessSeen.length).toBeGreaterThan(1);
    expect(readinessSeen.slice(0, -1)).not.toContain('200');
    expect(firstReady).toMatchObject({
      ready: true,
      hydrated: true,
      subscribed: true,
      caughtUp: true,
      storeReachable: true,
    });
  });

  it(`rejects all ${REVOKED_WHILE_DOWN} tokens as soon as it answers ready, and never accepted one while starting`, async () => {
    const statuses = await inBatches(revoked, 16, (token) => c.meStatus(token));
    expect(statuses.filter((status) => status !== 401)).toEqual([]);
    expect(acceptedWhileStarting).toEqual([]);
  });

  it('rejects the tokens of a user who logged out everywhere while it was stopped', async () => {
    expect(await Promise.all(cutOff.map((token) => c.meStatus(token)))).toEqual(Array(4).fill(401));
  });

  it('still accepts tokens that were never revoked', async () => {
    expect(await Promise.all(valid.map((token) => c.meStatus(token)))).toEqual(Array(4).fill(200));
  });

  it('receives revocations made after its restart like any other replica', async () => {
    await b.logout(valid[0] as string);
    await waitFor(async () => (await c.meStatus(valid[0] as string)) === 401, {
      timeoutMs: 100,
      intervalMs: 1,
      description: 'replica C to reject a token logged out on B',
    });
  });
});

describe('when logouts keep coming on A and B while replica C starts', () => {
  const cluster = new TestCluster({ suite: 'e2e', name: 'replica-start-race' });
  /** Tokens whose logout had returned, with when (performance.now()). */
  const loggedOut: Array<{ token: string; at: number }> = [];
  let a: ApiClient;
  let b: ApiClient;
  let c: ApiClient;
  let tokens: string[];
  let readyRequestedAt: number;
  const NEVER_LOGGED_OUT = 20;
  let staleAtReady: string[];

  beforeAll(async () => {
    await cluster.start();
    [a, b, c] = cluster.urls.map((url) => new ApiClient(url)) as [ApiClient, ApiClient, ApiClient];
    tokens = (await userWithTokens(a, [a, b], 300, 'race')).tokens;
    const replicaC = cluster.replicas[2] as ApiReplica;
    await replicaC.stop();

    let cReady = false;
    let afterReady = 0;
    const logouts = (async () => {
      // The last tokens are never logged out: the test below needs some, however long C takes.
      for (const [index, token] of tokens.slice(0, tokens.length - NEVER_LOGGED_OUT).entries()) {
        if (cReady && ++afterReady > 20) break;
        await (index % 2 === 0 ? a : b).logout(token);
        loggedOut.push({ token, at: performance.now() });
        // A steady stream (~100/s) rather than a burst, so that it spans C's whole start-up.
        await pace(LOGOUT_PERIOD_MS);
      }
    })();
    // Let a few logouts land before C even starts, then start it in the middle of the stream.
    await waitFor(() => loggedOut.length >= 20, { timeoutMs: 5_000, description: '20 logouts' });
    await replicaC.restart();
    await waitFor(
      async () => {
        const requestedAt = performance.now();
        if (!(await c.isReady())) return false;
        readyRequestedAt = requestedAt;
        return true;
      },
      { timeoutMs: 30_000, intervalMs: 5, description: 'replica C to be ready' },
    );
    // Tokens logged out more than the fan-out budget before C said ready must be rejected now.
    const settled = loggedOut.filter(({ at }) => at < readyRequestedAt - 100);
    const statuses = await inBatches(settled, 16, ({ token }) => c.meStatus(token));
    staleAtReady = settled.filter((_, index) => statuses[index] !== 401).map(({ token }) => token);
    cReady = true;
    await logouts;
  });

  afterAll(() => cluster.stop());

  it('rejects, as soon as it answers ready, every token logged out before (beyond the fan-out budget)', () => {
    console.log(
      `start-up race: ${loggedOut.length} logouts, ` +
        `${loggedOut.filter(({ at }) => at < readyRequestedAt).length} before C was ready`,
    );
    expect(loggedOut.filter(({ at }) => at < readyRequestedAt - 100).length).toBeGreaterThan(20);
    expect(staleAtReady).toEqual([]);
  });

  it('rejects every token logged out during and after its start within the fan-out budget', async () => {
    await waitFor(
      async () => {
        const statuses = await inBatches(loggedOut, 16, ({ token }) => c.meStatus(token));
        return statuses.every((status) => status === 401);
      },
      { timeoutMs: 1_000, description: 'replica C to reject every logged-out token' },
    );
  });

  it('still accepts the tokens nobody logged out', async () => {
    const kept = tokens.slice(loggedOut.length);
    expect(kept.length).toBeGreaterThan(0);
    const statuses = await inBatches(kept, 16, (token) => c.meStatus(token));
    expect(statuses.filter((status) => status !== 200)).toEqual([]);
  });
});
