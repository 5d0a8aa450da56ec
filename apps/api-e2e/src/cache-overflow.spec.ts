import {
  acceptedBeyond,
  ApiClient,
  elapsed,
  formatSummary,
  inBatches,
  metricValue,
  type Rejection,
  summarize,
  TestCluster,
  userWithTokens,
  logoutAndTimeFanOut,
} from '@rescind/testing';

const CACHE_MAX = 50;
const REVOKED = 500;
const USERS_OUT_EVERYWHERE = 10;

describe(`when each replica may hold only ${CACHE_MAX} revocations (REVOCATION_CACHE_MAX=${CACHE_MAX})`, () => {
  const cluster = new TestCluster({
    suite: 'e2e',
    name: 'cache-overflow',
    env: { REVOCATION_CACHE_MAX: String(CACHE_MAX) },
  });
  let replicas: ApiClient[];
  let revoked: string[];
  let cutOff: string[];
  let valid: string[];

  beforeAll(async () => {
    await cluster.start();
    replicas = cluster.urls.map((url) => new ApiClient(url));
    const [a, b, c] = replicas as [ApiClient, ApiClient, ApiClient];

    revoked = (await userWithTokens(a, replicas, REVOKED, 'overflow')).tokens;
    valid = (await userWithTokens(b, replicas, 10, 'overflow-valid')).tokens;
    const leavers = await inBatches(Array.from({ length: USERS_OUT_EVERYWHERE }), 4, () =>
      userWithTokens(c, replicas, 2, 'overflow-all'),
    );
    cutOff = leavers.flatMap((leaver) => leaver.tokens);

    await inBatches(revoked, 8, (token, index) => (replicas[index % 3] as ApiClient).logout(token));
    await inBatches(leavers, 4, (leaver, index) =>
      (replicas[index % 3] as ApiClient).logoutAll(leaver.tokens[0] as string),
    );
  });

  afterAll(() => cluster.stop());

  it(`rejects all ${REVOKED} revoked tokens on every replica`, async () => {
    for (const client of replicas) {
      const statuses = await inBatches(revoked, 16, (token) => client.meStatus(token));
      expect({
        replica: client.baseUrl,
        notRejected: statuses.filter((s) => s !== 401).length,
      }).toEqual({
        replica: client.baseUrl,
        notRejected: 0,
      });
    }
  });

  it('rejects the tokens of users who logged out everywhere on every replica', async () => {
    for (const client of replicas) {
      expect(await Promise.all(cutOff.map((token) => client.meStatus(token)))).toEqual(
        Array(cutOff.length).fill(401),
      );
    }
  });

  it('still accepts valid tokens on every replica', async () => {
    for (const client of replicas) {
      expect(await Promise.all(valid.map((token) => client.meStatus(token)))).toEqual(
        Array(valid.length).fill(200),
      );
    }
  });

  it('still fans out a new logout to the other replicas within 100 ms', async () => {
    const [a, b, c] = replicas as [ApiClient, ApiClient, ApiClient];
    const rejections: Rejection[] = (
      await inBatches(valid.slice(0, 5), 1, async (token) => {
        const { atOrigin, rejections } = await logoutAndTimeFanOut(a, [b, c], token, 2_000);
        expect(atOrigin.status).toBe(401);
        return rejections;
      })
    ).flat();
    console.log(
      `fan-out with an overflowing cache, ms: ${formatSummary(summarize(elapsed(rejections)))}`,
    );
    expect(acceptedBeyond(rejections, 100)).toEqual([]);
    expect(Math.max(...elapsed(rejections))).toBeLessThan(1_000);
  });

  it('holds at most the bound and counts evictions and overflow lookups in /metrics', async () => {
    for (const client of replicas) {
      const metrics = await client.metrics();
      const figures = {
        replica: client.baseUrl,
        entries: metricValue(metrics, 'rescind_cache_entries'),
        evictions: metricValue(metrics, 'rescind_cache_evictions_total'),
        overflowLookups: metricValue(metrics, 'rescind_overflow_lookups_total'),
      };
      console.log(`cache figures: ${JSON.stringify(figures)}`);
      expect(figures.entries).toBeLessThanOrEqual(CACHE_MAX);
      expect(figures.evictions).toBeGreaterThan(0);
      expect(figures.overflowLookups).toBeGreaterThan(0);
    }
  });
});
