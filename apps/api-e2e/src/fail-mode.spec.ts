import { performance } from 'node:perf_hooks';
import {
  ApiClient,
  ApiReplica,
  bearer,
  type Credentials,
  newCredentials,
  send,
  TestCluster,
  userWithTokens,
  waitFor,
} from '@rescind/testing';

const MAX_STALENESS_MS = 1_000;
const SYNC_INTERVAL_MS = 200;
/** After the bound, a replica notices within about one sync round; allow a generous margin. */
const AFTER_BOUND_TIMEOUT_MS = MAX_STALENESS_MS + 4_000;
const READY_AGAIN_TIMEOUT_MS = 10_000;

/** A replica that cannot reach Redis reports itself not ready, whatever its fail mode. */
function itReportsItselfNotReady(client: () => ApiClient): void {
  it('reports itself not ready', async () => {
    const readiness = await client().readiness();
    expect(readiness.status).toBe(503);
    expect(readiness.json).toMatchObject({ ready: false, storeReachable: false });
  });
}

describe(`when Redis is down for longer than MAX_STALENESS_MS=${MAX_STALENESS_MS}`, () => {
  const cluster = new TestCluster({
    suite: 'e2e',
    name: 'fail-mode',
    env: {
      MAX_STALENESS_MS: String(MAX_STALENESS_MS),
      SYNC_INTERVAL_MS: String(SYNC_INTERVAL_MS),
    },
    replicas: [{ env: { FAIL_MODE: 'closed' } }, { env: { FAIL_MODE: 'open' } }],
  });
  let closed: ApiClient;
  let open: ApiClient;
  let credentials: Credentials;
  let valid: string;
  let revokedOnClosed: string;
  let revokedOnOpen: string;
  let stoppedAt: number;
  /** Replicas started during the outage, outside the cluster. */
  const lateReplicas: ApiReplica[] = [];

  beforeAll(async () => {
    await cluster.start();
    [closed, open] = cluster.urls.map((url) => new ApiClient(url)) as [ApiClient, ApiClient];
    const user = await userWithTokens(closed, [closed, open], 4, 'fail-mode');
    credentials = user.credentials;
    [valid, revokedOnClosed, revokedOnOpen] = user.tokens as [string, string, string];

    await closed.logout(revokedOnClosed);
    await open.logout(revokedOnOpen);
    await waitFor(
      async () =>
        (
          await Promise.all(
            [closed, open].flatMap((client) =>
              [revokedOnClosed, revokedOnOpen].map((token) => client.meStatus(token)),
            ),
          )
        ).every((status) => status === 401),
      { timeoutMs: 2_000, description: 'both replicas to reject both revoked tokens' },
    );
    expect(await Promise.all([closed.meStatus(valid), open.meStatus(valid)])).toEqual([200, 200]);

    await cluster.redis.stop();
    stoppedAt = performance.now();
  });

  afterAll(async () => {
    await Promise.allSettled(lateReplicas.map((replica) => replica.stop()));
    await cluster.stop();
  });

  describe('with FAIL_MODE=closed', () => {
    it('answers protected routes with 503, a JSON body and Retry-After once the bound has passed', async () => {
      const answer = await waitFor(
        async () => {
          const me = await closed.me(valid);
          return me.status === 503 ? me : undefined;
        },
        { timeoutMs: AFTER_BOUND_TIMEOUT_MS, intervalMs: 10, description: 'closed to answer 503' },
      );
      console.log(
        `FAIL_MODE=closed answered 503 ${(performance.now() - stoppedAt).toFixed(0)} ms after Redis stopped`,
      );
      expect(answer.json).toMatchObject({ statusCode: 503, error: 'ERR_NOT_IN_SYNC' });
      expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
      expect(answer.headers.get('retry-after')).toMatch(/^\d+$/);

      // Revoked or not, no token gets through, and no route that needs the guard either.
      const revoked = await closed.me(revokedOnClosed);
      expect(revoked.status).toBe(503);
      const logout = await send(`${closed.baseUrl}/auth/logout`, {
        method: 'POST',
        headers: bearer(valid),
      });
      expect(logout.status).toBe(503);
      expect(logout.headers.get('retry-after')).toMatch(/^\d+$/);
    });

    itReportsItselfNotReady(() => closed);
  });

  describe('with FAIL_MODE=open', () => {
    it('still accepts a valid token and still rejects the tokens revoked before the outage', async () => {
      // Make sure the bound has passed on this replica too, by its own account and by the clock.
      await waitFor(
        async () =>
          performance.now() - stoppedAt > MAX_STALENESS_MS &&
          ((await open.readiness()).json?.stalenessMs ?? 0) > MAX_STALENESS_MS,
        { timeoutMs: AFTER_BOUND_TIMEOUT_MS, description: 'open to be past the staleness bound' },
      );
      expect(await open.meStatus(valid)).toBe(200);
      expect(await open.meStatus(revokedOnClosed)).toBe(401);
      expect(await open.meStatus(revokedOnOpen)).toBe(401);
    });

    it('answers 503 with JSON and Retry-After to a logout, which needs Redis, and keeps the token valid', async () => {
      const logout = await send(`${open.baseUrl}/auth/logout`, {
        method: 'POST',
        headers: bearer(valid),
      });
      expect(logout.status).toBe(503);
      expect(logout.json).toMatchObject({ statusCode: 503 });
      expect(logout.headers.get('retry-after')).toMatch(/^\d+$/);
      // A logout that failed must not have revoked the token.
      expect(await open.meStatus(valid)).toBe(200);
    });

    it('answers 503 with JSON and Retry-After to a login, which needs Redis (not a 500)', async () => {
      const register = await open.postJson('/auth/register', newCredentials('during-outage'));
      expect(register.status).toBe(503);
      const login = await open.postJson('/auth/login', credentials);
      expect(login.json).toMatchObject({ statusCode: 503 });
      expect(login.headers.get('retry-after')).toMatch(/^\d+$/);
    });

    itReportsItselfNotReady(() => open);
  });

  describe('when a replica (FAIL_MODE=open) starts while Redis is down', () => {
    let late: ApiReplica;
    let lateClient: ApiClient;

    beforeAll(async () => {
      late = await ApiReplica.start({
        name: 'api-late',
        env: { ...cluster.env, FAIL_MODE: 'open' },
      });
      lateReplicas.push(late);
      lateClient = new ApiClient(late.url);
      await waitFor(async () => (await send(`${late.url}/health/live`)).status === 200, {
        timeoutMs: 30_000,
        description: 'the late replica to listen',
      });
    });

    it('reports itself not ready and not hydrated', async () => {
      const readiness = await lateClient.readiness();
      expect(readiness.status).toBe(503);
      expect(readiness.json).toMatchObject({ ready: false, hydrated: false });
    });

    it('refuses to guess: 503 for every token, revoked or not, since it holds nothing yet', async () => {
      expect(await lateClient.meStatus(revokedOnClosed)).toBe(503);
      expect(await lateClient.meStatus(valid)).toBe(503);
    });
  });

  describe('when Redis returns on the same port', () => {
    let readyAfterMs: number;

    beforeAll(async () => {
      expect(performance.now() - stoppedAt).toBeGreaterThan(MAX_STALENESS_MS);
      const restartedAt = performance.now();
      await cluster.redis.restart();
      await waitFor(async () => (await closed.isReady()) && (await open.isReady()), {
        timeoutMs: READY_AGAIN_TIMEOUT_MS,
        description: 'both replicas to be ready again',
      });
      readyAfterMs = performance.now() - restartedAt;
    });

    it('makes both replicas ready again soon', () => {
      console.log(`both fail modes ready again ${readyAfterMs.toFixed(0)} ms after Redis returned`);
      expect(readyAfterMs).toBeLessThan(READY_AGAIN_TIMEOUT_MS);
    });

    it('brings the replica that started during the outage to ready, rejecting what was revoked', async () => {
      const lateClient = new ApiClient((lateReplicas[0] as ApiReplica).url);
      await waitFor(() => lateClient.isReady(), {
        timeoutMs: READY_AGAIN_TIMEOUT_MS,
        description: 'the late replica to be ready',
      });
      expect(await lateClient.meStatus(revokedOnClosed)).toBe(401);
      expect(await lateClient.meStatus(revokedOnOpen)).toBe(401);
      expect(await lateClient.meStatus(valid)).toBe(200);
    });

    it('lets the closed replica serve again, still rejecting what was revoked', async () => {
      expect(await closed.meStatus(valid)).toBe(200);
      expect(await closed.meStatus(revokedOnClosed)).toBe(401);
      expect(await closed.meStatus(revokedOnOpen)).toBe(401);
    });

    it('fans out new revocations between the two again', async () => {
      await open.logout(valid);
      expect(await open.meStatus(valid)).toBe(401);
      await waitFor(async () => (await closed.meStatus(valid)) === 401, {
        timeoutMs: 100,
        intervalMs: 1,
        description: 'the closed replica to reject a token logged out on the open one',
      });
    });
  });
});
