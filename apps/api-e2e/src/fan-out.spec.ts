import {
  acceptedBeyond,
  ApiClient,
  type ApiResponse,
  elapsed,
  formatSummary,
  metricValue,
  newCredentials,
  type Rejection,
  send,
  summarize,
  TestCluster,
  timeUntilRejected,
  userWithTokens,
  logoutAndTimeFanOut,
} from '@rescind/testing';
import { performance } from 'node:perf_hooks';
import { decodeClaims } from './support/jwt-forge';

const ADMIN_API_KEY = 'e2e-fan-out-admin-key';

/** Fan-out (README, "Guarantees and their limits"): other ready replicas reject within 100 ms. */
const FAN_OUT_BUDGET_MS = 100;
/** A probe gives up well after the budget, so that a miss reads as a figure, not a timeout. */
const PROBE_TIMEOUT_MS = 2_000;

describe('fan-out of a logout in normal operation', () => {
  const cluster = new TestCluster({ suite: 'e2e', name: 'fan-out', env: { ADMIN_API_KEY } });
  let a: ApiClient;
  let b: ApiClient;
  let c: ApiClient;

  beforeAll(async () => {
    await cluster.start();
    [a, b, c] = cluster.urls.map((url) => new ApiClient(url)) as [ApiClient, ApiClient, ApiClient];
  });

  afterAll(() => cluster.stop());

  /**
   * Logs each token out on `origin` and measures, from the moment the logout call returned, when
   * each other replica first rejects it. The origin's very next request must already be 401.
   */
  async function measureLogouts(
    tokens: readonly string[],
    originOf: (index: number) => ApiClient,
  ): Promise<Rejection[]> {
    const all = [a, b, c];
    const rejections: Rejection[] = [];
    for (const [index, token] of tokens.entries()) {
      const origin = originOf(index);
      const others = all.filter((client) => client !== origin);
      // Accepted everywhere first, so that a 401 afterwards can only be the revocation.
      expect(await Promise.all(all.map((client) => client.meStatus(token)))).toEqual([
        200, 200, 200,
      ]);

      const fanOut = await logoutAndTimeFanOut(origin, others, token, PROBE_TIMEOUT_MS);
      expect(fanOut.atOrigin.status).toBe(401);
      rejections.push(...fanOut.rejections);
    }
    return rejections;
  }

  describe('when a token is logged out on replica A', () => {
    const LOGOUTS = 50;

    it(`is rejected by A at once and by B and C within ${FAN_OUT_BUDGET_MS} ms (${LOGOUTS} logouts)`, async () => {
      const { tokens } = await userWithTokens(a, [a, b, c], LOGOUTS, 'fanout');

      const rejections = await measureLogouts(tokens, () => a);

      const summary = summarize(elapsed(rejections));
      const serverSide = await Promise.all([b, c].map(serverSidePropagation));
      console.log(
        `propagation ms (A → B, C, client-observed incl. one HTTP round trip): ${formatSummary(summary)}; ` +
          `server-side mean on B, C (rescind_propagation_seconds): ${serverSide.map((ms) => ms.toFixed(2)).join(', ')}; ` +
          `accepted after ${FAN_OUT_BUDGET_MS} ms: ${acceptedBeyond(rejections, FAN_OUT_BUDGET_MS).length}`,
      );
      expect(summary.count).toBe(LOGOUTS * 2);
      expect(summary.max).toBeLessThan(FAN_OUT_BUDGET_MS);
    });

    it('is rejected with an invalid_token challenge naming the revocation', async () => {
      const { tokens } = await userWithTokens(a, [a], 1, 'fanout');
      const token = tokens[0] as string;
      await a.logout(token);

      for (const client of [a, b, c]) {
        const answer = await client.me(token);
        expect(answer.status).toBe(401);
        expect(answer.json).toMatchObject({ error: 'ERR_TOKEN_REVOKED' });
        expect(answer.headers.get('www-authenticate')).toMatch(
          /^Bearer realm="api", error="invalid_token", error_description="[^"]+"$/,
        );
      }
    });
  });

  /** Mean of `rescind_propagation_seconds` on one replica, in ms. */
  async function serverSidePropagation(client: ApiClient): Promise<number> {
    const metrics = await client.metrics();
    const sum = metricValue(metrics, 'rescind_propagation_seconds_sum') ?? Number.NaN;
    const count = metricValue(metrics, 'rescind_propagation_seconds_count') ?? Number.NaN;
    return (sum / count) * 1000;
  }

  describe('when the logout lands on whichever replica the balancer picked', () => {
    const LOGOUTS = 30;

    it(`is rejected by that replica at once and by the two others within ${FAN_OUT_BUDGET_MS} ms`, async () => {
      const { tokens } = await userWithTokens(b, [a, b, c], LOGOUTS, 'rotating');

      const rejections = await measureLogouts(tokens, (index) => [a, b, c][index % 3] as ApiClient);

      const summary = summarize(elapsed(rejections));
      console.log(`propagation ms (rotating origin): ${formatSummary(summary)}`);
      expect(summary.max).toBeLessThan(FAN_OUT_BUDGET_MS);
    });
  });

  describe('when another session of the same user stays logged in', () => {
    it('keeps accepting the other token on every replica', async () => {
      const { tokens } = await userWithTokens(a, [a, b], 2, 'sibling');
      const [revoked, kept] = tokens as [string, string];
      await b.logout(revoked);
      const returnedAt = performance.now();
      await Promise.all(
        [a, c].map((client) => timeUntilRejected(client, revoked, returnedAt, 2_000)),
      );

      for (const client of [a, b, c]) {
        expect(await client.meStatus(kept)).toBe(200);
      }
    });
  });

  describe('afterwards, in /metrics', () => {
    it('every replica reports itself in sync and counts its checks by result', async () => {
      for (const client of [a, b, c]) {
        const metrics = await client.metrics();
        expect(metricValue(metrics, 'rescind_in_sync')).toBe(1);
        for (const result of ['accepted', 'revoked']) {
          const line = metrics
            .split('\n')
            .find((l) => l.startsWith('rescind_checks_total{') && l.includes(`result="${result}"`));
          expect(Number(line?.split(' ').pop())).toBeGreaterThan(0);
        }
        expect(metricValue(metrics, 'rescind_malformed_events_total')).toBe(0);
      }
    });
  });

  describe('when the token travels in the access_token cookie', () => {
    it('is set by login as an HttpOnly, Secure, SameSite=Strict cookie, and a cookie logout on A reaches B and C', async () => {
      const credentials = newCredentials('cookie');
      await a.register(credentials);
      const login = await a.postJson('/auth/login', credentials);
      const setCookie = login.headers.get('set-cookie') ?? '';
      expect(setCookie).toMatch(/^access_token=[\w-]+\.[\w-]+\.[\w-]+;/);
      for (const attribute of ['HttpOnly', 'Secure', 'SameSite=Strict', 'Path=/']) {
        expect(setCookie.split(/;\s*/)).toContain(attribute);
      }
      const cookie = { cookie: setCookie.split(';')[0] as string };
      const token = cookie.cookie.slice('access_token='.length);
      for (const client of [a, b, c]) {
        expect((await send(`${client.baseUrl}/me`, { headers: cookie })).status).toBe(200);
      }

      const logout = await send(`${a.baseUrl}/auth/logout`, { method: 'POST', headers: cookie });
      const returnedAt = performance.now();
      expect(logout.status).toBe(204);
      expect(logout.headers.get('set-cookie')).toMatch(/^access_token=;.*Max-Age=0/);

      const [onA, ...elsewhere] = await Promise.all([
        send(`${a.baseUrl}/me`, { headers: cookie }),
        ...[b, c].map((client) => timeUntilRejected(client, token, returnedAt, PROBE_TIMEOUT_MS)),
      ]);
      expect((onA as ApiResponse).status).toBe(401);
      expect(Math.max(...elapsed(elsewhere as Rejection[]))).toBeLessThan(FAN_OUT_BUDGET_MS);
      for (const client of [b, c]) {
        expect((await send(`${client.baseUrl}/me`, { headers: cookie })).status).toBe(401);
      }
    });
  });

  describe('when a token is revoked through RFC 7009 or by an administrator on replica A', () => {
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const admin = { authorization: `Bearer ${ADMIN_API_KEY}`, 'content-type': 'application/json' };
    const ways: Array<[string, (token: string) => Promise<ApiResponse>]> = [
      [
        'POST /oauth/revoke',
        (token) =>
          send(`${a.baseUrl}/oauth/revoke`, {
            method: 'POST',
            headers: form,
            body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
          }),
      ],
      [
        'POST /admin/revocations {jti, exp}',
        (token) => {
          const { jti, exp } = decodeClaims(token);
          return send(`${a.baseUrl}/admin/revocations`, {
            method: 'POST',
            headers: admin,
            body: JSON.stringify({ jti, exp, reason: 'stolen' }),
          });
        },
      ],
      [
        'POST /admin/revocations {sub}',
        (token) =>
          send(`${a.baseUrl}/admin/revocations`, {
            method: 'POST',
            headers: admin,
            body: JSON.stringify({ sub: decodeClaims(token)['sub'], reason: 'compromised' }),
          }),
      ],
    ];

    it.each(ways)('%s: A rejects it at once, B and C within 100 ms', async (_way, revoke) => {
      const { tokens } = await userWithTokens(a, [a, b, c], 1, 'other-ways');
      const token = tokens[0] as string;
      expect(await Promise.all([a, b, c].map((client) => client.meStatus(token)))).toEqual([
        200, 200, 200,
      ]);

      const answer = await revoke(token);
      const returnedAt = performance.now();
      expect(answer.status).toBeLessThan(300);

      const [onA, ...elsewhere] = await Promise.all([
        a.meStatus(token),
        ...[b, c].map((client) => timeUntilRejected(client, token, returnedAt, PROBE_TIMEOUT_MS)),
      ]);
      expect(onA).toBe(401);
      expect(Math.max(...elapsed(elsewhere as Rejection[]))).toBeLessThan(FAN_OUT_BUDGET_MS);
    });
  });
});
