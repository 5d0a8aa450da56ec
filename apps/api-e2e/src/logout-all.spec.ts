import { performance } from 'node:perf_hooks';
import {
  acceptedBeyond,
  ApiClient,
  CLUSTER_JWT_SECRET,
  elapsed,
  formatSummary,
  newCredentials,
  type Rejection,
  summarize,
  TestCluster,
  timeUntilRejected,
  userWithTokens,
  waitFor,
} from '@rescind/testing';
import { decodeClaims, signHmac } from './support/jwt-forge';

const FAN_OUT_BUDGET_MS = 100;
/** Far beyond the budget: only a gross delay, not load on the test machine, gets here. */
const SLOW_MS = 1_000;

describe('when a user logs out everywhere', () => {
  const cluster = new TestCluster({ suite: 'e2e', name: 'logout-all' });
  let replicas: ApiClient[];
  let a: ApiClient;
  let b: ApiClient;

  beforeAll(async () => {
    await cluster.start();
    replicas = cluster.urls.map((url) => new ApiClient(url));
    [a, b] = replicas as [ApiClient, ApiClient];
  });

  afterAll(() => cluster.stop());

  /** Statuses of `GET /me` for every token on every replica, replica by replica. */
  function statuses(tokens: readonly string[]): Promise<number[][]> {
    return Promise.all(
      replicas.map((client) => Promise.all(tokens.map((token) => client.meStatus(token)))),
    );
  }

  it('revokes all its tokens, from logins on different replicas, on every replica', async () => {
    // Two logins on each replica.
    const { tokens } = await userWithTokens(a, replicas, 6, 'everywhere');
    expect((await statuses(tokens)).flat()).toEqual(Array(18).fill(200));

    await b.logoutAll(tokens[0] as string);
    const returnedAt = performance.now();

    // The answering replica already rejects every one of them. The others get one cut-off event:
    // once it rejects one token, it must reject all of them.
    const others = replicas.filter((client) => client !== b);
    const [fromOrigin, ...delays] = await Promise.all([
      Promise.all(tokens.map((token) => b.meStatus(token))),
      ...others.map((client) => timeUntilRejected(client, tokens[5] as string, returnedAt, 2_000)),
    ]);
    expect(fromOrigin).toEqual(Array(6).fill(401));
    const rejections = delays as Rejection[];
    console.log(`logout-all propagation ms: ${formatSummary(summarize(elapsed(rejections)))}`);
    expect(acceptedBeyond(rejections, FAN_OUT_BUDGET_MS)).toEqual([]);
    expect(Math.max(...elapsed(rejections))).toBeLessThan(SLOW_MS);
    expect((await statuses(tokens)).flat()).toEqual(Array(18).fill(401));
  });

  it('accepts on every replica a login made right after it returned, within the same second', async () => {
    const credentials = newCredentials('same-second');
    await a.register(credentials);

    // Three rounds with one user: each logout-all also revokes the previous round's new logins.
    for (let round = 0; round < 3; round++) {
      const before = await Promise.all(replicas.map((client) => client.login(credentials)));
      // Start early in a second, so that the logins after the call share its second.
      await waitFor(() => Date.now() % 1000 < 300, {
        timeoutMs: 2_000,
        intervalMs: 5,
        description: 'the start of a second',
      });
      const calledAtSecond = Math.floor(Date.now() / 1000);

      await (replicas[round % 3] as ApiClient).logoutAll(before[0] as string);
      const after = await Promise.all(replicas.map((client) => client.login(credentials)));

      for (const token of after) {
        expect(Math.floor(decodeClaims(token)['iat'] as number)).toBe(calledAtSecond);
      }
      // Once every replica rejects the old tokens it holds the cut-off; the new ones must pass it.
      await waitFor(async () => (await statuses(before)).flat().every((status) => status === 401), {
        timeoutMs: 2_000,
        description: 'every replica to reject the tokens issued before logout-all',
      });
      expect((await statuses(after)).flat()).toEqual(Array(9).fill(200));
    }
  });

  it('also revokes a token dated ahead by a clock within the tolerated skew, everywhere', async () => {
    // Issued by a replica whose clock runs 400 ms ahead: accepted, as clock skew must be.
    const iat = Date.now() / 1000 + 0.4;
    const ahead = signHmac(
      { sub: `skewed-${Date.now()}`, jti: `ahead-${Date.now()}`, iat, exp: Math.floor(iat) + 60 },
      CLUSTER_JWT_SECRET,
    );
    expect(await a.meStatus(ahead)).toBe(200);

    await a.logoutAll(ahead);

    await waitFor(async () => (await statuses([ahead])).flat().every((status) => status === 401), {
      timeoutMs: 2_000,
      description: 'every replica to reject the token dated ahead',
    });
  });

  it("leaves other users' tokens accepted", async () => {
    const leaving = await userWithTokens(a, replicas, 3, 'leaving');
    const staying = await userWithTokens(b, replicas, 3, 'staying');

    await a.logoutAll(leaving.tokens[1] as string);

    await waitFor(
      async () => (await statuses(leaving.tokens)).flat().every((status) => status === 401),
      { timeoutMs: 2_000, description: 'every replica to reject the leaving user' },
    );
    expect((await statuses(staying.tokens)).flat()).toEqual(Array(9).fill(200));
  });
});
