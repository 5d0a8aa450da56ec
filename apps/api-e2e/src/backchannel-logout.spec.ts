import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { externalIdPrefix } from '@rescind/revocation-nest';
import {
  acceptedBeyond,
  type ApiAnswer,
  ApiClient,
  BACKCHANNEL_LOGOUT,
  elapsed,
  formatSummary,
  LoopbackIssuer,
  type Rejection,
  summarize,
  TestCluster,
  timeUntilRejected,
  waitFor,
} from '@rescind/testing';
import { signHmac, unsecuredJwt } from './support/jwt-forge';

const AUDIENCE = 'rescind-api';
const CLIENT_ID = 'rescind';
const ADMIN_API_KEY = 'e2e-backchannel-logout-admin-key';
/** Fan-out (README, "Guarantees and their limits"): other ready replicas reject within 100 ms. */
const FAN_OUT_BUDGET_MS = 100;
/** A probe gives up well after the budget, so that a miss reads as a figure, not a timeout. */
const PROBE_TIMEOUT_MS = 2_000;
const FORM = 'application/x-www-form-urlencoded';

/**
 * OpenID Connect Back-Channel Logout 1.0 at `POST /oidc/backchannel-logout`, and the provider's
 * access tokens at `/oauth/revoke` and the admin routes, over three real replicas and a loopback
 * provider (docs/design.md, "External issuers" and "Back-channel logout").
 */
describe('back-channel logout and revocation of an external issuer’s tokens', () => {
  const provider = new LoopbackIssuer({ clientId: CLIENT_ID });
  let cluster: TestCluster;
  let replicas: ApiClient[];
  let prefix: string;

  beforeAll(async () => {
    await provider.start();
    await provider.addKey('ec', 'ES256');
    await provider.addKey('rsa', 'RS256');
    prefix = externalIdPrefix(provider.issuer);
    cluster = new TestCluster({
      suite: 'e2e',
      name: 'backchannel-logout',
      env: {
        OIDC_ISSUER: provider.issuer,
        OIDC_AUDIENCE: AUDIENCE,
        OIDC_CLIENT_ID: CLIENT_ID,
        ADMIN_API_KEY,
      },
      // The form body is parsed by each adapter its own way: both must take it alike.
      replicas: [{}, {}, { env: { HTTP_ADAPTER: 'express' } }],
    });
    await cluster.start();
    replicas = cluster.urls.map((url, i) => new ApiClient(url, 'abc'[i]));
  });

  afterAll(async () => {
    await cluster?.stop();
    await provider.stop();
  });

  /** Posts `body` with `contentType`, or with none for `null`. */
  function post(client: ApiClient, body: string, contentType: string | null = FORM) {
    return client.request('/oidc/backchannel-logout', {
      method: 'POST',
      headers: contentType === null ? {} : { 'content-type': contentType },
      body,
    });
  }

  function logoutForm(token: string): string {
    return new URLSearchParams({ logout_token: token }).toString();
  }

  function statuses(token: string): Promise<number[]> {
    return Promise.all(replicas.map((client) => client.meStatus(token)));
  }

  /** Every replica rejects the token as revoked, each within the probe's wait. */
  async function rejectedEverywhere(token: string, what: string): Promise<void> {
    for (const client of replicas) {
      await waitFor(async () => (await client.check(token)) === 'revoked', {
        timeoutMs: PROBE_TIMEOUT_MS,
        description: `${client.label} rejects ${what}`,
      });
    }
  }

  function expectInvalidRequest(answer: ApiAnswer, description?: RegExp): void {
    expect(answer.status).toBe(400);
    expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
    expect(answer.json).toMatchObject({
      error: 'invalid_request',
      error_description: expect.any(String),
    });
    if (description !== undefined) {
      expect((answer.json as { error_description: string }).error_description).toMatch(description);
    }
  }

  it('accepts the provider’s access tokens with a sid on every replica', async () => {
    const token = await provider.sign('ec', { sid: `s-${randomUUID()}` });
    expect(await statuses(token)).toEqual([200, 200, 200]);
  });

  it('a logout token with a sid ends that session on every replica, and no other', async () => {
    const [a] = replicas as [ApiClient];
    const sid = `s-${randomUUID()}`;
    const tokens = [
      await provider.sign('ec', { sid }),
      await provider.sign('rsa', { sid, sub: 'carol' }),
    ];
    const otherSession = await provider.sign('ec', { sid: `s-${randomUUID()}` });
    for (const token of [...tokens, otherSession]) {
      expect(await statuses(token)).toEqual([200, 200, 200]);
    }

    const answer = await post(a, logoutForm(await provider.signLogoutToken('ec', { sid })));
    expect(answer.status).toBe(200);
    expect(answer.text).toBe('');
    expect(answer.headers.get('cache-control')).toBe('no-store');
    expect(answer.headers.get('pragma')).toBe('no-cache');
    // Read your revocation: the replica that answered rejects at once.
    for (const token of tokens) expect(await a.check(token)).toBe('revoked');
    for (const token of tokens) await rejectedEverywhere(token, 'a token of the ended session');
    expect(await statuses(otherSession)).toEqual([200, 200, 200]);
  });

  it(`is rejected by the other replicas within ${FAN_OUT_BUDGET_MS} ms (20 logout tokens)`, async () => {
    const rejections: Rejection[] = [];
    for (let i = 0; i < 20; i++) {
      const origin = replicas[i % 3] as ApiClient;
      const others = replicas.filter((client) => client !== origin);
      const sid = `s-${randomUUID()}`;
      const token = await provider.sign('ec', { sid });
      // Accepted everywhere first, so that a 401 afterwards can only be the revocation.
      expect(await statuses(token)).toEqual([200, 200, 200]);
      const logout = logoutForm(await provider.signLogoutToken('ec', { sid }));
      expect((await post(origin, logout)).status).toBe(200);
      const returnedAt = performance.now();
      expect(await origin.check(token)).toBe('revoked');
      rejections.push(
        ...(await Promise.all(
          others.map((client) =>
            timeUntilRejected(client, token, returnedAt, PROBE_TIMEOUT_MS, 'revoked'),
          ),
        )),
      );
    }
    const summary = summarize(elapsed(rejections));
    console.log(
      `back-channel logout propagation ms (origin → the other two, client-observed incl. one ` +
        `HTTP round trip): ${formatSummary(summary)}; accepted after ${FAN_OUT_BUDGET_MS} ms: ` +
        `${acceptedBeyond(rejections, FAN_OUT_BUDGET_MS).length}`,
    );
    expect(summary.count).toBe(40);
    // The promise, robust on a loaded machine: no request sent after the budget is accepted.
    expect(acceptedBeyond(rejections, FAN_OUT_BUDGET_MS)).toEqual([]);
  });

  it('with both sid and sub, only the session ends (sid names it)', async () => {
    const [, b] = replicas as [ApiClient, ApiClient];
    const sub = `u-${randomUUID()}`;
    const sid = `s-${randomUUID()}`;
    const inSession = await provider.sign('ec', { sub, sid });
    const elsewhere = await provider.sign('ec', { sub, sid: `s-${randomUUID()}` });
    const answer = await post(b, logoutForm(await provider.signLogoutToken('ec', { sub, sid })));
    expect(answer.status).toBe(200);
    await rejectedEverywhere(inSession, 'the token of the ended session');
    expect(await statuses(elsewhere)).toEqual([200, 200, 200]);
  });

  it('a logout token with only a sub ends every earlier token of the user, not later ones', async () => {
    const [, , c] = replicas as [ApiClient, ApiClient, ApiClient];
    const sub = `u-${randomUUID()}`;
    const earlier = [
      await provider.sign('ec', { sub, sid: `s-${randomUUID()}` }),
      await provider.sign('rsa', { sub }),
    ];
    const someoneElse = await provider.sign('ec', { sub: `u-${randomUUID()}` });
    const answer = await post(c, logoutForm(await provider.signLogoutToken('ec', { sub })));
    expect(answer.status).toBe(200);
    const returnedAtMs = Date.now();
    for (const token of earlier) await rejectedEverywhere(token, 'an earlier token of the user');
    expect(await statuses(someoneElse)).toEqual([200, 200, 200]);
    // The provider dates its tokens in whole seconds: one issued after the answer is dated
    // after it once the next second has begun (docs/design.md, "Back-channel logout").
    await waitFor(() => Math.floor(Date.now() / 1000) * 1000 > returnedAtMs, {
      timeoutMs: 2_000,
      description: 'the second after the logout',
    });
    const later = await provider.sign('ec', { sub, sid: `s-${randomUUID()}` });
    expect(await statuses(later)).toEqual([200, 200, 200]);
  });

  it('refuses a logout token replayed, to the same or another replica', async () => {
    const [a, b, c] = replicas as [ApiClient, ApiClient, ApiClient];
    const logout = await provider.signLogoutToken('ec', { sid: `s-${randomUUID()}` });
    expect((await post(a, logoutForm(logout))).status).toBe(200);
    expectInvalidRequest(await post(b, logoutForm(logout)), /replayed/);
    expectInvalidRequest(await post(c, logoutForm(logout)), /replayed/);
    expectInvalidRequest(await post(a, logoutForm(logout)), /replayed/);
  });

  describe('answers 400 invalid_request, never 5xx, for', () => {
    const now = (): number => Math.floor(Date.now() / 1000);
    const sid = (): string => `s-${randomUUID()}`;
    it.each<[string, () => Promise<string>, RegExp]>([
      [
        'a tampered signature',
        async () => {
          const token = await provider.signLogoutToken('rsa', { sid: sid() });
          return `${token.slice(0, -4)}${token.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`;
        },
        /signature/,
      ],
      [
        'alg none',
        async () => unsecuredJwt(provider.logoutTokenClaims({ sid: sid() })),
        /signature/,
      ],
      [
        "HS256 with the provider's public key as the secret",
        async () =>
          signHmac(
            provider.logoutTokenClaims({ sid: sid() }),
            await provider.publicPem('rsa'),
            'HS256',
            { kid: 'rsa', typ: 'logout+jwt' },
          ),
        /signature/,
      ],
      [
        'another issuer',
        () => provider.signLogoutToken('ec', { sid: sid(), iss: 'https://evil.example' }),
        /issuer/,
      ],
      [
        'an aud without our client id (the access tokens’ audience)',
        () => provider.signLogoutToken('ec', { sid: sid(), aud: AUDIENCE }),
        /client/,
      ],
      ['no iat', () => provider.signLogoutToken('ec', { sid: sid(), iat: undefined }), /iat/],
      ['an old iat', () => provider.signLogoutToken('ec', { sid: sid(), iat: now() - 600 }), /old/],
      [
        'an iat in the future',
        () => provider.signLogoutToken('ec', { sid: sid(), iat: now() + 600 }),
        /future/,
      ],
      ['no jti', () => provider.signLogoutToken('ec', { sid: sid(), jti: undefined }), /jti/],
      [
        'no events',
        () => provider.signLogoutToken('ec', { sid: sid(), events: undefined }),
        /event/,
      ],
      [
        'an event that is no object',
        () =>
          provider.signLogoutToken('ec', { sid: sid(), events: { [BACKCHANNEL_LOGOUT]: 'yes' } }),
        /event/,
      ],
      ['neither sid nor sub', () => provider.signLogoutToken('ec', {}), /neither sid nor sub/],
      ['a nonce', () => provider.signLogoutToken('ec', { sid: sid(), nonce: 'n' }), /nonce/],
      [
        'an access token’s typ',
        () => provider.signLogoutToken('ec', { sid: sid() }, { typ: 'at+jwt' }),
        /typ/,
      ],
      [
        'an access token',
        () => provider.sign('ec', { aud: [AUDIENCE, CLIENT_ID], sid: sid() }),
        /typ|event/,
      ],
      ['no JWT at all', async () => 'not-a-jwt', /malformed/],
    ])('%s', async (_what, forge, description) => {
      const body = logoutForm(await forge());
      for (const client of replicas) expectInvalidRequest(await post(client, body), description);
    });

    it('a missing, empty or repeated logout_token, or a body that is no form', async () => {
      const token = await provider.signLogoutToken('ec', { sid: sid() });
      for (const a of replicas) {
        expectInvalidRequest(await post(a, ''), /required/);
        expectInvalidRequest(await post(a, 'logout_token='), /required/);
        expectInvalidRequest(await post(a, 'other=1'), /required/);
        expectInvalidRequest(await post(a, `${logoutForm(token)}&${logoutForm(token)}`), /once/);
        expectInvalidRequest(
          await post(a, JSON.stringify({ logout_token: token }), 'application/json'),
          /form/,
        );
        expectInvalidRequest(await post(a, '', null), /form/);
        expectInvalidRequest(await post(a, logoutForm(token), 'text/plain'), /form/);
      }
      // None of these took the token: it still logs out once.
      expect((await post(replicas[2] as ApiClient, logoutForm(token))).status).toBe(200);
    });
  });

  it('/oauth/revoke revokes a provider access token on every replica', async () => {
    const [, b] = replicas as [ApiClient, ApiClient];
    const token = await provider.sign('ec', { sid: `s-${randomUUID()}` });
    const sibling = await provider.sign('ec', { sid: `s-${randomUUID()}` });
    expect(await statuses(token)).toEqual([200, 200, 200]);
    const answer = await b.request('/oauth/revoke', {
      method: 'POST',
      headers: { 'content-type': FORM },
      body: new URLSearchParams({ token }).toString(),
    });
    expect(answer.status).toBe(200);
    expect(await b.check(token)).toBe('revoked');
    await rejectedEverywhere(token, 'the revoked provider token');
    expect(await statuses(sibling)).toEqual([200, 200, 200]);
  });

  it('/oauth/introspect answers for a provider token with its issuer, namespaced ids', async () => {
    const [a] = replicas as [ApiClient];
    const jti = `at-${randomUUID()}`;
    const token = await provider.sign('ec', { jti, sub: 'dave', sid: 'sess-1' });
    const answer = await a.request('/oauth/introspect', {
      method: 'POST',
      headers: { 'content-type': FORM, authorization: `Bearer ${ADMIN_API_KEY}` },
      body: new URLSearchParams({ token }).toString(),
    });
    expect(answer.json).toMatchObject({
      active: true,
      iss: provider.issuer,
      jti: `${prefix}${jti}`,
      sub: `${prefix}dave`,
      sid: `${prefix}sess-1`,
    });
  });

  describe('/admin/revocations with iss', () => {
    const admin = { authorization: `Bearer ${ADMIN_API_KEY}`, 'content-type': 'application/json' };
    const revoke = (client: ApiClient, body: unknown) =>
      client.request('/admin/revocations', {
        method: 'POST',
        headers: admin,
        body: JSON.stringify(body),
      });
    /** The fields of a listed revocation of the provider's `id`, namespaced, and `fields`. */
    const entry = (kind: string, id: string, fields: Record<string, unknown> = {}) => ({
      kind,
      id: `${prefix}${id}`,
      provider_id: id,
      ...fields,
    });
    /** `client` lists, among its first 1000 revocations, one with the fields of each entry. */
    async function expectListed(
      client: ApiClient,
      ...entries: Record<string, unknown>[]
    ): Promise<void> {
      const page = await client.request<{ items: Record<string, unknown>[] }>(
        '/admin/revocations?limit=1000',
        { headers: admin },
      );
      expect(page.json?.items).toEqual(
        expect.arrayContaining(entries.map((fields) => expect.objectContaining(fields))),
      );
    }

    it('revokes the provider’s jti, sub or sid in its namespace, on every replica', async () => {
      const [a, b, c] = replicas as [ApiClient, ApiClient, ApiClient];
      const jti = `at-${randomUUID()}`;
      const sub = `u-${randomUUID()}`;
      const sid = `s-${randomUUID()}`;
      const byJti = await provider.sign('ec', { jti });
      const bySub = await provider.sign('ec', { sub });
      const bySid = await provider.sign('ec', { sid });
      const untouched = await provider.sign('ec', { sid: `s-${randomUUID()}` });
      for (const [client, body, kind, id] of [
        [a, { jti, iss: provider.issuer, reason: 'stolen' }, 'token', jti],
        [b, { sub, iss: provider.issuer }, 'user', sub],
        [c, { sid, iss: provider.issuer }, 'session', sid],
      ] as const) {
        const answer = await revoke(client, body);
        expect(answer.status).toBe(201);
        expect(answer.json).toEqual({ kind, id, iss: provider.issuer, at: expect.any(String) });
      }
      for (const token of [byJti, bySub, bySid]) await rejectedEverywhere(token, 'it');
      expect(await statuses(untouched)).toEqual([200, 200, 200]);

      await expectListed(
        a,
        entry('token', jti, { iss: provider.issuer, reason: 'stolen' }),
        entry('user', sub),
        entry('session', sid),
      );

      // One of them by the provider's own id, in its namespace (docs/design.md, "Fleet presence").
      const query = `?iss=${encodeURIComponent(provider.issuer)}`;
      const detail = await b.request(`/admin/revocations/${encodeURIComponent(jti)}${query}`, {
        headers: admin,
      });
      expect(detail.status).toBe(200);
      expect(detail.json).toMatchObject(
        entry('token', jti, { iss: provider.issuer, reason: 'stolen', actor: 'admin' }),
      );
      expect((await b.request(`/admin/revocations/${jti}`, { headers: admin })).status).toBe(404);
    });

    it('lists what back-channel logout revoked with its issuer and reason', async () => {
      const [a] = replicas as [ApiClient];
      const sid = `s-${randomUUID()}`;
      expect(
        (await post(a, logoutForm(await provider.signLogoutToken('ec', { sid })))).status,
      ).toBe(200);
      await expectListed(
        a,
        entry('session', sid, { iss: provider.issuer, reason: 'backchannel-logout' }),
      );
    });

    it('refuses an iss that is no configured issuer, naming it, and ids too long for it', async () => {
      const [a] = replicas as [ApiClient];
      for (const iss of ['https://evil.example', `${provider.issuer}/`, 7, null]) {
        const answer = await revoke(a, { jti: 'x', iss });
        expect(answer.status).toBe(400);
        expect(answer.json).toMatchObject({ error: 'ERR_INVALID_INPUT' });
        expect(String(answer.json && (answer.json as { message: unknown }).message)).toMatch(
          /iss .* is not a configured external issuer/,
        );
      }
      const evil = await revoke(a, { sub: 'x', iss: 'https://evil.example' });
      expect(String((evil.json as { message: unknown }).message)).toContain('evil.example');
      const long = await revoke(a, { sid: 's'.repeat(250), iss: provider.issuer });
      expect(long.status).toBe(400);
    });
  });
});

/**
 * `OIDC_LOGOUT_REVOKES=user`, for a provider whose access tokens carry no `sid`: a logout token
 * naming a session and its user cuts the user off, since revoking the session would reach no
 * access token (docs/design.md, "External issuers").
 */
describe('back-channel logout with OIDC_LOGOUT_REVOKES=user', () => {
  const provider = new LoopbackIssuer({ clientId: CLIENT_ID });
  let cluster: TestCluster;
  let replica: ApiClient;

  beforeAll(async () => {
    await provider.start();
    await provider.addKey('ec', 'ES256');
    cluster = new TestCluster({
      suite: 'e2e',
      name: 'backchannel-logout-user',
      replicas: 1,
      env: {
        OIDC_ISSUER: provider.issuer,
        OIDC_AUDIENCE: AUDIENCE,
        OIDC_CLIENT_ID: CLIENT_ID,
        OIDC_LOGOUT_REVOKES: 'user',
      },
    });
    await cluster.start();
    replica = new ApiClient(cluster.urls[0] as string);
  });

  afterAll(async () => {
    await cluster?.stop();
    await provider.stop();
  });

  async function logout(claims: Record<string, unknown>): Promise<void> {
    const answer = await replica.request('/oidc/backchannel-logout', {
      method: 'POST',
      headers: { 'content-type': FORM },
      body: new URLSearchParams({
        logout_token: await provider.signLogoutToken('ec', claims),
      }).toString(),
    });
    expect(answer.status).toBe(200);
  }

  it('a logout token with sid and sub ends every earlier token of the user', async () => {
    const sub = `u-${randomUUID()}`;
    const sid = `s-${randomUUID()}`;
    const withoutSid = await provider.sign('ec', { sub });
    const bystander = await provider.sign('ec', { sub: `u-${randomUUID()}` });
    expect(await replica.meStatus(withoutSid)).toBe(200);
    await logout({ sub, sid });
    expect(await replica.check(withoutSid)).toBe('revoked');
    expect(await replica.meStatus(bystander)).toBe(200);
  });

  it('a logout token with a sid alone still ends that session', async () => {
    const sid = `s-${randomUUID()}`;
    const inSession = await provider.sign('ec', { sub: `u-${randomUUID()}`, sid });
    await logout({ sid, sub: undefined });
    expect(await replica.check(inSession)).toBe('revoked');
  });
});
