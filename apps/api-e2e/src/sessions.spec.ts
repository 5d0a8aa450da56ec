import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import {
  acceptedBeyond,
  ApiClient,
  type ApiAnswer,
  bearer,
  elapsed,
  formatSummary,
  newCredentials,
  type Rejection,
  send,
  summarize,
  TestCluster,
  timeUntilRejected,
  waitFor,
} from '@rescind/testing';
import { CookieJar } from './support/cookie-jar';
import { decodeClaims } from './support/jwt-forge';
import {
  deleteSessionAnswer,
  listSessions,
  login,
  loginAnswer,
  REFRESH_TOKEN_SHAPE,
  refresh,
  refreshAnswer,
  refreshCount,
  SESSION_ID_SHAPE,
  type SessionPair,
  timeSessionFanOut,
} from './support/session-client';

const ADMIN_API_KEY = 'e2e-sessions-admin-key';
/** Fan-out (README, "Guarantees and their limits"): other ready replicas reject within 100 ms. */
const FAN_OUT_BUDGET_MS = 100;
/** A probe gives up well after the budget, so that a miss reads as a figure, not a timeout. */
const PROBE_TIMEOUT_MS = 2_000;
/** Revocations timed per way of ending a session. */
const TIMED_REVOCATIONS = 30;

const form = { 'content-type': 'application/x-www-form-urlencoded' };
const admin = { authorization: `Bearer ${ADMIN_API_KEY}`, 'content-type': 'application/json' };

/**
 * Sessions and refresh-token rotation over three real replicas (README, "Routes" and
 * "Sessions"). Reuse is detected at once here (`REFRESH_REUSE_GRACE_MS=0`); the grace for two
 * tabs is `refresh-grace.spec.ts`'s. Replica A trusts the test as its proxy (`TRUST_PROXY`).
 */
describe('sessions and refresh tokens', () => {
  const cluster = new TestCluster({
    suite: 'e2e',
    name: 'sessions',
    env: { ADMIN_API_KEY, REFRESH_REUSE_GRACE_MS: '0' },
    replicas: [{ env: { TRUST_PROXY: '127.0.0.0/8, ::1/128' } }, {}, {}],
  });
  let a: ApiClient;
  let b: ApiClient;
  let c: ApiClient;
  let all: ApiClient[];

  beforeAll(async () => {
    await cluster.start();
    all = cluster.urls.map((url, i) => new ApiClient(url, 'abc'[i]));
    [a, b, c] = all as [ApiClient, ApiClient, ApiClient];
  });

  afterAll(() => cluster.stop());

  /** A registered user's credentials. */
  async function user(tag: string) {
    const credentials = newCredentials(tag);
    await a.register(credentials);
    return credentials;
  }

  /** `GET /me` statuses of each token on every replica, flattened. */
  async function statuses(tokens: readonly string[]): Promise<number[]> {
    return (
      await Promise.all(all.map((client) => Promise.all(tokens.map((t) => client.meStatus(t)))))
    ).flat();
  }

  function expectInvalidGrant(answer: ApiAnswer): void {
    expect(answer.status).toBe(401);
    expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
    expect(answer.json).toMatchObject({
      error: 'invalid_grant',
      error_description: expect.any(String),
    });
  }

  describe('POST /auth/login', () => {
    it('answers a refresh token with its lifetime, sets both cookies, no-store, and starts a session', async () => {
      const answer = await loginAnswer(b, await user('login'));
      expect(answer.status).toBe(200);
      const body = answer.json as Record<string, unknown>;
      expect(body).toMatchObject({
        token_type: 'Bearer',
        expires_in: 900,
        refresh_expires_in: 1_209_600,
      });
      expect(body['refresh_token']).toMatch(REFRESH_TOKEN_SHAPE);
      expect(answer.headers.get('cache-control')).toBe('no-store');

      const cookies = answer.headers.getSetCookie();
      const access = cookies.find((cookie) => cookie.startsWith('access_token='));
      const refreshing = cookies.find((cookie) => cookie.startsWith('refresh_token='));
      expect(access?.split(/;\s*/)).toEqual(
        expect.arrayContaining(['HttpOnly', 'Secure', 'SameSite=Strict', 'Path=/']),
      );
      expect(refreshing).toBe(
        `refresh_token=${String(body['refresh_token'])}; HttpOnly; Secure; SameSite=Strict; Path=/auth; Max-Age=1209600`,
      );

      const sid = decodeClaims(String(body['access_token']))['sid'];
      expect(sid).toMatch(SESSION_ID_SHAPE);
      for (const client of all) {
        const me = await client.me(String(body['access_token']));
        expect(me.status).toBe(200);
        expect(me.json).toMatchObject({ sid });
      }
    });
  });

  describe('POST /auth/refresh', () => {
    it('rotates: a new pair of the same session, both cookies set again, no-store; older access tokens stay valid', async () => {
      const first = await login(a, await user('rotate'));
      const answer = await refreshAnswer(b, first.refresh_token);
      expect(answer.status).toBe(200);
      expect(answer.headers.get('cache-control')).toBe('no-store');
      const second = answer.json as SessionPair;
      expect(second.refresh_token).toMatch(REFRESH_TOKEN_SHAPE);
      expect(second.refresh_token).not.toBe(first.refresh_token);
      expect(second.access_token).not.toBe(first.access_token);
      expect(second).toMatchObject({ token_type: 'Bearer', refresh_expires_in: 1_209_600 });
      expect(decodeClaims(second.access_token)['sid']).toBe(first.sid);
      expect(decodeClaims(second.access_token)['username']).toBe(
        decodeClaims(first.access_token)['username'],
      );
      expect(answer.headers.getSetCookie().map((cookie) => cookie.split('=')[0])).toEqual([
        'access_token',
        'refresh_token',
      ]);

      expect(await statuses([first.access_token, second.access_token])).toEqual(Array(6).fill(200));
      // And again, on another replica, with the new one.
      const third = await refresh(c, second.refresh_token);
      expect(decodeClaims(third.access_token)['sid']).toBe(first.sid);
    });

    it.each([['an unknown refresh token', () => randomBytes(32).toString('base64url')]])(
      'refuses %s with 401 invalid_grant',
      async (_name, token) => {
        expectInvalidGrant(await refreshAnswer(a, token()));
      },
    );

    it('refuses an access token sent as a refresh token (invalid_grant), and a refresh token sent as a bearer token (invalid_token)', async () => {
      const pair = await login(a, await user('crossed'));
      expectInvalidGrant(await refreshAnswer(a, pair.access_token));
      const me = await a.me(pair.refresh_token);
      expect(me.status).toBe(401);
      expect(me.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
      // Neither mistake harmed the session.
      expect((await refreshAnswer(b, pair.refresh_token)).status).toBe(200);
    });

    it('treats a refresh token rotated out and presented again as theft: invalid_grant, the session ends everywhere', async () => {
      const first = await login(a, await user('reuse'));
      const second = await refresh(a, first.refresh_token);
      expect(await statuses([first.access_token, second.access_token])).toEqual(Array(6).fill(200));

      expectInvalidGrant(await refreshAnswer(b, first.refresh_token));

      // The answering replica at once; the others within the bound (timed below).
      expect(await b.meStatus(second.access_token)).toBe(401);
      await waitFor(
        async () =>
          (await statuses([first.access_token, second.access_token])).every((s) => s === 401),
        { timeoutMs: 2_000, description: 'every replica to reject the reused session' },
      );
      // The current refresh token died with the session.
      expectInvalidGrant(await refreshAnswer(c, second.refresh_token));
    });

    it('takes the refresh token from the refresh_token cookie when there is no body', async () => {
      const pair = await login(a, await user('cookie'));
      const answer = await send(`${b.baseUrl}/auth/refresh`, {
        method: 'POST',
        headers: { cookie: `refresh_token=${pair.refresh_token}` },
      });
      expect(answer.status).toBe(200);
      expect((answer.json as SessionPair).refresh_token).toMatch(REFRESH_TOKEN_SHAPE);
    });
  });

  describe('a browser-like client with a cookie jar', () => {
    it('logs in, refreshes by cookie, and once an old refresh cookie is replayed every replica rejects the session', async () => {
      const credentials = await user('browser');
      const browser = new CookieJar();
      const json = { 'content-type': 'application/json' };

      const signedIn = await browser.fetch(a.baseUrl, '/auth/login', {
        method: 'POST',
        headers: json,
        body: JSON.stringify(credentials),
      });
      expect(signedIn.status).toBe(200);
      expect(browser.get('refresh_token')?.path).toBe('/auth');
      // The refresh cookie goes to /auth only, the access cookie everywhere.
      expect(browser.headerFor('/me')).toMatch(/^access_token=[^;]+$/);
      expect(browser.headerFor('/auth/refresh')).toMatch(/refresh_token=/);
      const stolen = browser.get('refresh_token')?.value as string;
      const firstAccess = browser.get('access_token')?.value as string;
      expect((await browser.fetch(b.baseUrl, '/me')).status).toBe(200);

      // A page refreshes by cookie alone: no body, no script access to the token.
      const refreshed = await browser.fetch(b.baseUrl, '/auth/refresh', { method: 'POST' });
      expect(refreshed.status).toBe(200);
      expect(browser.get('refresh_token')?.value).not.toBe(stolen);
      expect(browser.get('access_token')?.value).not.toBe(firstAccess);
      for (const client of all)
        expect((await browser.fetch(client.baseUrl, '/me')).status).toBe(200);
      const currentAccess = browser.get('access_token')?.value as string;

      // Someone replays the refresh cookie taken before the rotation.
      const replay = await send(`${c.baseUrl}/auth/refresh`, {
        method: 'POST',
        headers: { cookie: `refresh_token=${stolen}` },
      });
      const returnedAt = performance.now();
      expect(replay.status).toBe(401);
      expect(replay.json).toMatchObject({ error: 'invalid_grant' });

      const [onC, ...elsewhere] = await Promise.all([
        c.meStatus(currentAccess),
        ...[a, b].map((client) =>
          timeUntilRejected(client, currentAccess, returnedAt, PROBE_TIMEOUT_MS),
        ),
      ]);
      expect(onC).toBe(401);
      expect(acceptedBeyond(elsewhere as Rejection[], FAN_OUT_BUDGET_MS)).toEqual([]);
      for (const client of all) {
        expect((await browser.fetch(client.baseUrl, '/me')).status).toBe(401);
      }
      // The browser's own refresh cookie is dead too: the thief and the victim both sign in again.
      const again = await browser.fetch(a.baseUrl, '/auth/refresh', { method: 'POST' });
      expect(again.status).toBe(401);
    });
  });

  describe('ending a session reaches every replica', () => {
    /**
     * Ends `TIMED_REVOCATIONS` sessions with `end`, each on the next replica in turn, and times
     * how long until the two others reject the session's latest access token.
     */
    async function timeEndings(
      tag: string,
      end: (origin: ApiClient, session: SessionPair, rotatedOut: string) => Promise<ApiAnswer>,
      expectAnswer: (answer: ApiAnswer) => void,
    ): Promise<Rejection[]> {
      const credentials = await user(tag);
      const rejections: Rejection[] = [];
      for (let i = 0; i < TIMED_REVOCATIONS; i++) {
        const origin = all[i % 3] as ApiClient;
        const others = all.filter((client) => client !== origin);
        const first = await login(all[(i + 1) % 3] as ApiClient, credentials);
        const current = await refresh(all[(i + 2) % 3] as ApiClient, first.refresh_token);
        // Accepted everywhere first, so that a 401 afterwards can only be the revocation.
        expect(await statuses([current.access_token])).toEqual([200, 200, 200]);

        const fanOut = await timeSessionFanOut(
          origin,
          others,
          current.access_token,
          () => end(origin, current, first.refresh_token),
          PROBE_TIMEOUT_MS,
        );
        expectAnswer(fanOut.answer);
        expect(fanOut.atOrigin.status).toBe(401);
        rejections.push(...fanOut.rejections);
        // Nothing of the session survives: not its current refresh token either.
        expectInvalidGrant(await refreshAnswer(origin, current.refresh_token));
      }
      return rejections;
    }

    function report(what: string, rejections: Rejection[]): void {
      const summary = summarize(elapsed(rejections));
      console.log(
        `${what} propagation ms (origin rotating, to the 2 other replicas, client-observed incl. one HTTP round trip): ` +
          `${formatSummary(summary)}; accepted after ${FAN_OUT_BUDGET_MS} ms: ${acceptedBeyond(rejections, FAN_OUT_BUDGET_MS).length}`,
      );
      expect(summary.count).toBe(TIMED_REVOCATIONS * 2);
      // The contract's bound, on the client-observed upper bound (as fan-out.spec.ts asserts it),
      // and no request sent after the bound was ever accepted (a load-proof proof of a breach).
      expect(summary.p99).toBeLessThan(FAN_OUT_BUDGET_MS);
      expect(acceptedBeyond(rejections, FAN_OUT_BUDGET_MS)).toEqual([]);
    }

    it(`by reuse detection: the answering replica at once, the others within ${FAN_OUT_BUDGET_MS} ms (${TIMED_REVOCATIONS} sessions)`, async () => {
      const rejections = await timeEndings(
        'reuse-fan-out',
        (origin, _session, rotatedOut) => refreshAnswer(origin, rotatedOut),
        expectInvalidGrant,
      );
      report('reuse detection', rejections);
    });

    it(`by DELETE /auth/sessions/:sid: the answering replica at once, the others within ${FAN_OUT_BUDGET_MS} ms (${TIMED_REVOCATIONS} sessions)`, async () => {
      const rejections = await timeEndings(
        'delete-fan-out',
        (origin, session) => deleteSessionAnswer(origin, session.access_token, session.sid),
        (answer) => expect(answer.status).toBe(204),
      );
      report('DELETE /auth/sessions/:sid', rejections);
    });
  });

  describe('GET /auth/sessions and DELETE /auth/sessions/:sid', () => {
    it("lists the caller's live sessions with where they came from, and the current one", async () => {
      const credentials = await user('list');
      const phone = await login(a, credentials, {
        'user-agent': 'phone/1.0',
        'x-forwarded-for': '203.0.113.7',
      });
      const laptop = await login(b, credentials, { 'user-agent': 'laptop/2.0' });
      const before = Date.now();

      const items = await listSessions(c, laptop.access_token);
      expect(items.map((item) => item.sid).sort()).toEqual([phone.sid, laptop.sid].sort());
      const byId = new Map(items.map((item) => [item.sid, item]));
      expect(byId.get(phone.sid)).toMatchObject({
        user_agent: 'phone/1.0',
        // A trusts the test as its proxy: the client is the one X-Forwarded-For names.
        ip: '203.0.113.7',
        current: false,
      });
      expect(byId.get(laptop.sid)).toMatchObject({ user_agent: 'laptop/2.0', current: true });
      // B trusts no proxy: the socket address, whatever the headers say.
      expect(byId.get(laptop.sid)?.ip).toMatch(/^(127\.0\.0\.1|::1)$/);
      for (const item of items) {
        expect(new Date(item.created_at).toISOString()).toBe(item.created_at);
        expect(Date.parse(item.last_used_at)).toBeLessThanOrEqual(before + 1000);
      }
    });

    it('forged X-Forwarded-For is not believed by a replica that trusts no proxy', async () => {
      const credentials = await user('forged');
      const pair = await login(b, credentials, { 'x-forwarded-for': '198.51.100.9' });
      const [item] = await listSessions(b, pair.access_token);
      expect(item?.ip).toMatch(/^(127\.0\.0\.1|::1)$/);
    });

    it("ends one of the caller's sessions everywhere and leaves the others", async () => {
      const credentials = await user('delete');
      const kept = await login(a, credentials);
      const ended = await login(b, credentials);

      const answer = await deleteSessionAnswer(c, kept.access_token, ended.sid);
      expect(answer.status).toBe(204);
      await waitFor(async () => (await statuses([ended.access_token])).every((s) => s === 401), {
        timeoutMs: 2_000,
        description: 'every replica to reject the deleted session',
      });
      expect(await statuses([kept.access_token])).toEqual([200, 200, 200]);
      expectInvalidGrant(await refreshAnswer(a, ended.refresh_token));
      expect((await listSessions(a, kept.access_token)).map((item) => item.sid)).toEqual([
        kept.sid,
      ]);
      // Deleted once is gone: 404, as for anything not a live session of the caller.
      const again = await deleteSessionAnswer(a, kept.access_token, ended.sid);
      expect(again.status).toBe(404);
      expect(again.json).toMatchObject({ error: 'ERR_SESSION_NOT_FOUND' });
    });

    it("answers 404 for another user's session and leaves it alive", async () => {
      const mallory = await login(a, await user('mallory'));
      const alice = await login(a, await user('alice'));
      const answer = await deleteSessionAnswer(b, mallory.access_token, alice.sid);
      expect(answer.status).toBe(404);
      expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
      expect(await statuses([alice.access_token])).toEqual([200, 200, 200]);
      expect((await refreshAnswer(c, alice.refresh_token)).status).toBe(200);
    });
  });

  describe('logout and logout-all', () => {
    it("logout ends the token's session: its sibling access tokens and its refresh token, and clears both cookies", async () => {
      const first = await login(a, await user('logout'));
      const second = await refresh(b, first.refresh_token);
      const answer = await a.logoutAnswer(first.access_token);
      expect(answer.status).toBe(204);
      const cleared = answer.headers.getSetCookie();
      expect(cleared).toEqual([
        expect.stringMatching(/^access_token=;.*Path=\/;.*Max-Age=0$/),
        expect.stringMatching(/^refresh_token=;.*Path=\/auth;.*Max-Age=0$/),
      ]);
      await waitFor(
        async () =>
          (await statuses([first.access_token, second.access_token])).every((s) => s === 401),
        { timeoutMs: 2_000, description: "every replica to reject the session's tokens" },
      );
      expectInvalidGrant(await refreshAnswer(c, second.refresh_token));
    });

    it('logout-all ends every session of the user', async () => {
      const credentials = await user('logout-all');
      const sessions = [await login(a, credentials), await login(b, credentials)];
      await a.logoutAll(sessions[0]?.access_token as string);
      for (const session of sessions) {
        expectInvalidGrant(await refreshAnswer(c, session.refresh_token));
      }
      const fresh = await login(c, credentials);
      expect((await listSessions(a, fresh.access_token)).map((item) => item.sid)).toEqual([
        fresh.sid,
      ]);
    });
  });

  describe('an administrator and RFC 7009 / RFC 7662', () => {
    it('POST /admin/revocations {sid} ends the session everywhere and answers the receipt', async () => {
      const pair = await login(a, await user('admin-sid'));
      const answer = await send(`${b.baseUrl}/admin/revocations`, {
        method: 'POST',
        headers: admin,
        body: JSON.stringify({ sid: pair.sid, reason: 'stolen laptop' }),
      });
      expect(answer.status).toBe(201);
      expect(answer.json).toMatchObject({ kind: 'session', id: pair.sid });
      const at = (answer.json as { at: string }).at;
      expect(new Date(at).toISOString()).toBe(at);
      expect(await b.meStatus(pair.access_token)).toBe(401);
      await waitFor(async () => (await statuses([pair.access_token])).every((s) => s === 401), {
        timeoutMs: 2_000,
        description: 'every replica to reject the session',
      });
      expectInvalidGrant(await refreshAnswer(c, pair.refresh_token));
      const listed = await send<{ items: { kind: string; id: string; reason: string }[] }>(
        `${a.baseUrl}/admin/revocations?limit=1000`,
        { headers: admin },
      );
      expect(listed.json?.items).toContainEqual(
        expect.objectContaining({ kind: 'session', id: pair.sid, reason: 'stolen laptop' }),
      );
    });

    it.each(['refresh_token', 'access_token', undefined])(
      'POST /oauth/revoke of a refresh token (hint %s) ends its session',
      async (hint) => {
        const pair = await login(a, await user('oauth-revoke'));
        const answer = await send(`${b.baseUrl}/oauth/revoke`, {
          method: 'POST',
          headers: form,
          body: new URLSearchParams({
            token: pair.refresh_token,
            ...(hint === undefined ? {} : { token_type_hint: hint }),
          }).toString(),
        });
        expect(answer.status).toBe(200);
        expect(await b.meStatus(pair.access_token)).toBe(401);
        await waitFor(async () => (await statuses([pair.access_token])).every((s) => s === 401), {
          timeoutMs: 2_000,
          description: 'every replica to reject the session',
        });
        expectInvalidGrant(await refreshAnswer(c, pair.refresh_token));
      },
    );

    it('POST /oauth/introspect answers for refresh tokens: active while current, inactive once rotated out or revoked', async () => {
      const introspect = async (token: string) =>
        (
          await send<Record<string, unknown>>(`${c.baseUrl}/oauth/introspect`, {
            method: 'POST',
            headers: { ...bearer(ADMIN_API_KEY), ...form },
            body: new URLSearchParams({ token, token_type_hint: 'refresh_token' }).toString(),
          })
        ).json;
      const credentials = await user('introspect');
      const first = await login(a, credentials);
      const nowS = Date.now() / 1000;
      const active = await introspect(first.refresh_token);
      expect(active).toMatchObject({
        active: true,
        sub: decodeClaims(first.access_token)['sub'],
        username: credentials.username,
        sid: first.sid,
        token_type: 'refresh_token',
      });
      expect(Number(active?.['exp'])).toBeGreaterThan(nowS + 1_209_600 - 60);
      expect(Number(active?.['exp'])).toBeLessThan(nowS + 1_209_600 + 60);
      expect(await introspect(randomBytes(32).toString('base64url'))).toEqual({ active: false });

      const second = await refresh(a, first.refresh_token);
      expect(await introspect(first.refresh_token)).toEqual({ active: false });
      expect(await introspect(second.access_token)).toMatchObject({
        active: true,
        sid: first.sid,
        token_type: 'Bearer',
      });
      await a.logout(second.access_token);
      expect(await introspect(second.refresh_token)).toEqual({ active: false });
    });
  });

  describe('afterwards, in /metrics', () => {
    it('counts refreshes by outcome: rotated, reused and invalid', async () => {
      const texts = await Promise.all(all.map((client) => client.metrics()));
      for (const outcome of ['rotated', 'reused', 'invalid']) {
        expect(refreshCount(texts, outcome)).toBeGreaterThan(0);
      }
      // Every reuse above was timed or checked once per session: at least the timed ones.
      expect(refreshCount(texts, 'reused')).toBeGreaterThanOrEqual(TIMED_REVOCATIONS);
    });
  });
});
