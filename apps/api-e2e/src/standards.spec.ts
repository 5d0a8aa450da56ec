import {
  ApiClient,
  bearer,
  CLUSTER_JWT_SECRET,
  send,
  TestCluster,
  userWithTokens,
} from '@rescind/testing';
import { decodeClaims, signHmac } from './support/jwt-forge';

const ADMIN_KEY = 'e2e-admin-key-0123456789';

function form(fields: Record<string, string>): RequestInit {
  return {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  };
}

describe('the standards and admin routes', () => {
  // Replica a has the admin key, replica b has none.
  const cluster = new TestCluster({
    suite: 'e2e',
    name: 'standards',
    replicas: [{ env: { ADMIN_API_KEY: ADMIN_KEY } }, {}],
  });
  let a: ApiClient;
  let b: ApiClient;
  let aUrl: string;
  let bUrl: string;

  beforeAll(async () => {
    await cluster.start();
    [aUrl, bUrl] = cluster.urls as [string, string];
    a = new ApiClient(aUrl);
    b = new ApiClient(bUrl);
  });

  afterAll(() => cluster.stop());

  describe('when a token is revoked through RFC 7009 on one replica', () => {
    it('is introspected as inactive (RFC 7662) and rejected everywhere', async () => {
      const { tokens } = await userWithTokens(a, [a], 1, 'oauth');
      const token = tokens[0] as string;
      const introspect = (): Promise<{ status: number; json: unknown }> =>
        send(`${aUrl}/oauth/introspect`, {
          ...form({ token }),
          headers: { ...form({}).headers, authorization: `Bearer ${ADMIN_KEY}` },
        });

      const active = await introspect();
      const claims = decodeClaims(token);
      expect(active.status).toBe(200);
      expect(active.json).toEqual({
        active: true,
        sub: claims['sub'],
        username: claims['username'],
        jti: claims['jti'],
        iat: Math.floor(claims['iat'] as number),
        exp: claims['exp'],
        token_type: 'Bearer',
        sid: claims['sid'],
      });

      const revoked = await send(
        `${bUrl}/oauth/revoke`,
        form({ token, token_type_hint: 'access_token' }),
      );
      expect(revoked.status).toBe(200);
      expect(revoked.text).toBe('');
      expect(await b.meStatus(token)).toBe(401);
      expect((await introspect()).json).toEqual({ active: false });
    });

    it('revokes a token whose exp is fractional (RFC 7519 §2), by RFC 7009 and by logout', async () => {
      const fractional = (n: number): string => {
        const iat = Date.now() / 1000;
        const claims = { sub: `frac-${n}`, jti: `frac-${n}-${Date.now()}`, iat };
        return signHmac({ ...claims, exp: Math.floor(iat) + 60.0005 }, CLUSTER_JWT_SECRET);
      };
      const [viaOAuth, viaLogout] = [fractional(1), fractional(2)];
      expect([await a.meStatus(viaOAuth), await a.meStatus(viaLogout)]).toEqual([200, 200]);

      expect((await send(`${bUrl}/oauth/revoke`, form({ token: viaOAuth }))).status).toBe(200);
      await b.logout(viaLogout);

      for (const client of [a, b]) {
        expect([await client.meStatus(viaOAuth), await client.meStatus(viaLogout)]).toEqual([
          401, 401,
        ]);
      }
      // The record outlives the token: an exp of X.0005 is valid until X+1.
      const jti = decodeClaims(viaLogout)['jti'] as string;
      const ttl = Number(await cluster.redis.cli('PTTL', cluster.key('rev', 't', jti)));
      const exp = decodeClaims(viaLogout)['exp'] as number;
      expect(Date.now() + ttl).toBeGreaterThanOrEqual(Math.ceil(exp) * 1000 - 50);
    });

    it('answers 200 for unknown or invalid tokens and 400 invalid_request without one', async () => {
      expect((await send(`${aUrl}/oauth/revoke`, form({ token: 'not-a-token' }))).status).toBe(200);
      const missing = await send(`${aUrl}/oauth/revoke`, form({}));
      expect(missing.status).toBe(400);
      expect(missing.json).toMatchObject({ error: 'invalid_request' });
    });

    it('keeps introspection behind the admin key', async () => {
      const noKey = await send(`${aUrl}/oauth/introspect`, form({ token: 'x' }));
      expect(noKey.status).toBe(401);
      expect(noKey.headers.get('www-authenticate')).toContain('Bearer realm="api"');
      const wrongKey = await send(`${aUrl}/oauth/introspect`, {
        ...form({ token: 'x' }),
        headers: { ...form({}).headers, authorization: 'Bearer wrong' },
      });
      expect(wrongKey.status).toBe(401);
      expect(wrongKey.headers.get('www-authenticate')).toContain('error="invalid_token"');
    });
  });

  describe('when an administrator revokes and lists', () => {
    const admin = { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' };

    it('revokes a user by sub and a token by jti, and pages through them with their reasons', async () => {
      const { tokens } = await userWithTokens(a, [a, b], 2, 'admin');
      const [first, second] = tokens as [string, string];
      const sub = decodeClaims(first)['sub'] as string;
      const jti = decodeClaims(second)['jti'] as string;

      const byUser = await send(`${aUrl}/admin/revocations`, {
        method: 'POST',
        headers: admin,
        body: JSON.stringify({ sub, reason: 'account compromised' }),
      });
      expect(byUser.status).toBe(201);
      expect(byUser.json).toMatchObject({ kind: 'user', id: sub });
      const byToken = await send(`${aUrl}/admin/revocations`, {
        method: 'POST',
        headers: admin,
        body: JSON.stringify({ jti, exp: decodeClaims(second)['exp'], reason: 'stolen' }),
      });
      expect(byToken.status).toBe(201);
      expect(await b.meStatus(first)).toBe(401);

      const seen: { kind: string; id: string; reason: string | null }[] = [];
      let cursor: string | null = null;
      do {
        const query: string = cursor === null ? '?limit=1' : `?limit=1&cursor=${cursor}`;
        const page = await send<{ items: typeof seen; next_cursor: string | null }>(
          `${aUrl}/admin/revocations${query}`,
          { headers: admin },
        );
        expect(page.status).toBe(200);
        seen.push(...(page.json?.items ?? []));
        cursor = page.json?.next_cursor ?? null;
      } while (cursor !== null);
      expect(seen).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ kind: 'user', id: sub, reason: 'account compromised' }),
          expect.objectContaining({ kind: 'token', id: jti, reason: 'stolen' }),
        ]),
      );
    });

    it('rejects invalid bodies with 400', async () => {
      for (const body of [
        '{}',
        '{"jti":"a","sub":"b"}',
        '{"jti":""}',
        '{"sub":"x","exp":1}',
        '[]',
      ]) {
        const response = await send(`${aUrl}/admin/revocations`, {
          method: 'POST',
          headers: admin,
          body,
        });
        expect(response.status).toBe(400);
      }
    });

    it('does not exist (404) on a replica without ADMIN_API_KEY', async () => {
      const response = await send(`${bUrl}/admin/revocations`, { headers: bearer('anything') });
      expect(response.status).toBe(404);
      expect(response.json).toBeDefined();
    });
  });

  describe('when a benchmark asks for the floor', () => {
    it("answers GET /me's shape without reading any credential, and reveals nothing", async () => {
      const { tokens } = await userWithTokens(a, [a], 1, 'floor');
      const me = await send<Record<string, unknown>>(`${aUrl}/me`, {
        headers: bearer(tokens[0] as string),
      });
      for (const headers of [{}, bearer(tokens[0] as string), bearer('not.a.token')]) {
        const floor = await send<Record<string, unknown>>(`${aUrl}/bench/floor`, { headers });
        expect(floor.status).toBe(200);
        expect(floor.headers.get('x-request-id')).toBeTruthy();
        expect(Object.keys(floor.json ?? {}).sort()).toEqual(Object.keys(me.json ?? {}).sort());
        // Fixed claims: nothing of the caller's token or of any user.
        expect(floor.json).toMatchObject({ username: 'floor', instance: 'api-a' });
        expect(JSON.stringify(floor.json)).not.toContain(String(me.json?.['sub']));
      }
    });
  });

  describe('when a client asks for the API description', () => {
    it('serves an OpenAPI document naming every route of the API', async () => {
      const response = await send<{ paths: Record<string, Record<string, unknown>> }>(
        `${aUrl}/docs/json`,
      );
      expect(response.status).toBe(200);
      const routes = Object.entries(response.json?.paths ?? {}).flatMap(([path, methods]) =>
        Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
      );
      expect(routes.sort()).toEqual(
        [
          'POST /auth/register',
          'POST /auth/login',
          'GET /me',
          'GET /bench/floor',
          'POST /auth/logout',
          'POST /auth/logout-all',
          'POST /auth/refresh',
          'GET /auth/sessions',
          'DELETE /auth/sessions/{sid}',
          'POST /oauth/revoke',
          'POST /oauth/introspect',
          'POST /oidc/backchannel-logout',
          'POST /admin/revocations',
          'GET /admin/revocations',
          'GET /admin/users/{user}/sessions',
          'GET /admin/console',
          'GET /admin/revocations/{id}',
          'GET /admin/replicas',
          'GET /health/live',
          'GET /health/ready',
          'GET /metrics',
          'GET /.well-known/oauth-authorization-server',
          'POST /ssf/events',
        ].sort(),
      );
    });
  });
});
