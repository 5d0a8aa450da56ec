import * as oauth from 'oauth4webapi';
import {
  ApiClient,
  bearer,
  newCredentials,
  send,
  TestCluster,
  userWithTokens,
} from '@rescind/testing';
import { decodeClaims } from './support/jwt-forge';
import { rawRequest } from './support/raw-http';

// Characters RFC 6749 §2.3.1 form-encodes in a Basic credential, so that decoding is exercised.
const ADMIN_KEY = 'e2e+admin:key%0123456789';

/** oauth4webapi refuses http:// endpoints unless told: the test cluster serves plain HTTP. */
const INSECURE = { [oauth.allowInsecureRequests]: true } as const;

function form(fields: string, headers: Record<string, string> = {}): RequestInit {
  return {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: fields,
  };
}

describe('the OAuth routes as standard clients use them', () => {
  // The same API on both HTTP adapters, each with the admin key.
  const cluster = new TestCluster({
    suite: 'e2e',
    name: 'oauth-clients',
    replicas: [
      { env: { ADMIN_API_KEY: ADMIN_KEY } },
      { env: { ADMIN_API_KEY: ADMIN_KEY, HTTP_ADAPTER: 'express' } },
    ],
  });
  let fastifyUrl: string;
  let expressUrl: string;

  beforeAll(async () => {
    await cluster.start();
    [fastifyUrl, expressUrl] = cluster.urls as [string, string];
  });

  afterAll(() => cluster.stop());

  const adapters = [
    ['fastify', () => fastifyUrl],
    ['express', () => expressUrl],
  ] as const;

  describe.each(adapters)('on %s', (_adapter, urlOf) => {
    it('lets oauth4webapi discover the metadata, introspect with client_secret_basic and revoke', async () => {
      const url = urlOf();
      const api = new ApiClient(url);
      const { tokens } = await userWithTokens(api, [api], 1, 'oauth4webapi');
      const token = tokens[0] as string;

      const issuer = new URL(url);
      const as = await oauth.processDiscoveryResponse(
        issuer,
        await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...INSECURE }),
      );
      expect(as.revocation_endpoint).toBe(`${url}/oauth/revoke`);
      expect(as.introspection_endpoint).toBe(`${url}/oauth/introspect`);

      const client: oauth.Client = { client_id: 'resource-server-1' };
      const introspect = async (): Promise<oauth.IntrospectionResponse> =>
        oauth.processIntrospectionResponse(
          as,
          client,
          await oauth.introspectionRequest(
            as,
            client,
            oauth.ClientSecretBasic(ADMIN_KEY),
            token,
            INSECURE,
          ),
        );

      const active = await introspect();
      const claims = decodeClaims(token);
      expect(active).toMatchObject({
        active: true,
        sub: claims['sub'],
        jti: claims['jti'],
        exp: claims['exp'],
        token_type: 'Bearer',
      });
      // RFC 7662 §2.2: NumericDate, an integer, although the token's own iat is fractional.
      expect(Number.isInteger(active.iat)).toBe(true);
      expect(active.iat).toBe(Math.floor(claims['iat'] as number));

      // A public client (RFC 7009 §2.1): no client authentication at all.
      await oauth.processRevocationResponse(
        await oauth.revocationRequest(as, { client_id: 'any-app' }, oauth.None(), token, INSECURE),
      );
      expect(await introspect()).toEqual({ active: false });
      expect(await api.meStatus(token)).toBe(401);
    });

    it('takes the admin key as the password of HTTP Basic on introspection only, whatever the user name', async () => {
      const url = urlOf();
      const basic = (user: string, password: string): Record<string, string> => ({
        authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
      });
      const introspect = (headers: Record<string, string>) =>
        send(`${url}/oauth/introspect`, form('token=abc', headers));

      // As sent without form-encoding too, and with an empty client id.
      for (const user of ['', 'client-a', 'b']) {
        const answer = await introspect(basic(user, ADMIN_KEY));
        expect(answer.status).toBe(200);
        expect(answer.json).toEqual({ active: false });
      }
      for (const headers of [
        basic('client-a', 'wrong'),
        basic('client-a', `${ADMIN_KEY}x`),
        { authorization: `Basic ${Buffer.from('no-colon-at-all').toString('base64')}` },
      ]) {
        expect((await introspect(headers)).status).toBe(401);
      }
      const admin = await send(`${url}/admin/revocations`, { headers: basic('x', ADMIN_KEY) });
      expect(admin.status).toBe(401);
    });

    it('marks token-bearing answers no-store: login and introspection', async () => {
      const url = urlOf();
      const credentials = newCredentials('no-store');
      await new ApiClient(url).register(credentials);
      const login = await send(`${url}/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(credentials),
      });
      expect(login.status).toBe(200);
      const introspection = await send(
        `${url}/oauth/introspect`,
        form(`token=${(login.json as { access_token: string }).access_token}`, bearer(ADMIN_KEY)),
      );
      expect(introspection.json).toMatchObject({ active: true });
      for (const answer of [login, introspection]) {
        expect(answer.headers.get('cache-control')).toBe('no-store');
        expect(answer.headers.get('pragma')).toBe('no-cache');
      }
    });

    it('answers {} as JSON to a revocation that asks for JSON by name, the empty body otherwise', async () => {
      const url = urlOf();
      const revoke = (accept: string) =>
        send(`${url}/oauth/revoke`, form('token=not-a-token', { accept }));
      for (const accept of ['application/json', 'text/html, application/json;q=0.5']) {
        const answer = await revoke(accept);
        expect(answer.status).toBe(200);
        expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
        expect(answer.text).toBe('{}');
      }
      for (const accept of ['*/*', 'application/*', 'text/plain', 'application/json;q=0']) {
        const answer = await revoke(accept);
        expect([accept, answer.status, answer.text]).toEqual([accept, 200, '']);
      }
      const port = new URL(url).port;
      const noAccept = await rawRequest(
        Number(port),
        `POST /oauth/revoke HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n` +
          `Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 7\r\n\r\ntoken=x`,
      );
      expect([noAccept.status, noAccept.body]).toEqual([200, '']);
    });

    it('refuses a token parameter given twice (RFC 6749 §3.2) with 400 invalid_request', async () => {
      const url = urlOf();
      for (const [path, headers] of [
        ['/oauth/revoke', {}],
        ['/oauth/introspect', bearer(ADMIN_KEY)],
      ] as const) {
        const answer = await send(`${url}${path}`, form('token=a&token=b', headers));
        expect([path, answer.status, answer.json]).toEqual([
          path,
          400,
          { error: 'invalid_request', error_description: 'token must be given once' },
        ]);
      }
    });

    it('publishes RFC 8414 metadata under the name the client used, cacheable', async () => {
      const url = urlOf();
      const answer = await send(`${url}/.well-known/oauth-authorization-server`);
      expect(answer.status).toBe(200);
      expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
      expect(answer.headers.get('cache-control')).toBe('public, max-age=3600');
      expect(answer.json).toEqual({
        issuer: url,
        revocation_endpoint: `${url}/oauth/revoke`,
        revocation_endpoint_auth_methods_supported: ['none'],
        introspection_endpoint: `${url}/oauth/introspect`,
        introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'Bearer'],
        response_types_supported: [],
        service_documentation: `${url}/docs`,
      });
      const localhost = url.replace('127.0.0.1', 'localhost');
      const byName = await send<{ issuer: string }>(
        `${localhost}/.well-known/oauth-authorization-server`,
      );
      expect(byName.json?.issuer).toBe(localhost);
    });
  });

  describe('when users are named like registered claims', () => {
    it('signs them in with tokens that work', async () => {
      const api = new ApiClient(fastifyUrl);
      for (const username of ['sub', 'exp', 'jti', 'iat', 'nbf']) {
        const token = await api.registerAndLogin({ username, password: 'correct horse 1' });
        expect([username, await api.meStatus(token)]).toEqual([username, 200]);
      }
    });
  });

  describe('when an administrator pages through revocations while they are tidied', () => {
    const admin = { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' };

    it('continues after a cursor whose revocation left the index, and ends', async () => {
      const exp = Math.floor(Date.now() / 1000) + 600;
      const mine = Array.from({ length: 6 }, (_, i) => `paging-${i}-${Date.now()}`);
      for (const jti of mine) {
        const answer = await send(`${fastifyUrl}/admin/revocations`, {
          method: 'POST',
          headers: admin,
          body: JSON.stringify({ jti, exp }),
        });
        expect(answer.status).toBe(201);
      }

      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const query: string = cursor === null ? '?limit=2' : `?limit=2&cursor=${cursor}`;
        const page = await send<{
          items: { kind: string; id: string }[];
          next_cursor: string | null;
        }>(`${fastifyUrl}/admin/revocations${query}`, { headers: admin });
        expect(page.status).toBe(200);
        const items = page.json?.items ?? [];
        seen.push(...items.map((item) => item.id));
        cursor = page.json?.next_cursor ?? null;
        // What the worker does once a revocation expired: the cursor's entry leaves the index.
        const last = items[items.length - 1];
        if (cursor !== null && last !== undefined) {
          await cluster.redis.cli('ZREM', cluster.key('rev', 'index'), `t:${last.id}`);
        }
        pages += 1;
      } while (cursor !== null && pages < 20);

      expect(cursor).toBeNull();
      expect(seen.filter((id) => mine.includes(id)).sort()).toEqual([...mine].sort());
      expect(new Set(seen).size).toBe(seen.length);
    });

    it('refuses a cursor it cannot read with 400', async () => {
      for (const cursor of [
        Buffer.from('t:some-member').toString('base64url'),
        Buffer.from('12:x:abc').toString('base64url'),
        '%%%',
      ]) {
        const answer = await send(`${fastifyUrl}/admin/revocations?cursor=${cursor}`, {
          headers: admin,
        });
        expect([cursor, answer.status]).toEqual([cursor, 400]);
      }
    });
  });
});
