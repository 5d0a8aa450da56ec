import { createHmac } from 'node:crypto';
import {
  ApiClient,
  type ApiReplica,
  type ApiResponse,
  bearer,
  CLUSTER_JWT_SECRET,
  newCredentials,
  send,
  TestCluster,
} from '@rescind/testing';
import { decodeClaims, type JwtPart, resigned, signHmac, unsecuredJwt } from './support/jwt-forge';
import { type RawAnswer, rawRequest } from './support/raw-http';

const ADMIN_API_KEY = 'e2e-admin-key';
const REALM = 'Bearer realm="api"';

/** An answer from `fetch` or from a raw socket, seen the same way. */
interface Answer {
  readonly status: number;
  header(name: string): string | null;
  readonly body: string;
}

function fromFetch(answer: ApiResponse): Answer {
  return { status: answer.status, header: (name) => answer.headers.get(name), body: answer.text };
}

function fromRaw(answer: RawAnswer): Answer {
  return {
    status: answer.status,
    header: (name) => answer.headers[name.toLowerCase()] ?? null,
    body: answer.body,
  };
}

/** What a case needs to reach the replica under test. */
interface Target {
  readonly url: string;
  readonly port: number;
  /** A genuine token of a registered user, for forging variants of it. */
  readonly token: string;
  readonly claims: JwtPart;
}

/** One kind of bad input and the answer the API promises for it. */
interface BadInput {
  readonly name: string;
  readonly send: (target: Target) => Promise<Answer>;
  readonly status: number;
  /** For 401s: `realm` when no token was presented, `invalid_token` when one was. */
  readonly challenge?: 'realm' | 'invalid_token';
}

const postRaw =
  (
    path: string,
    body: string,
    contentType = 'application/json',
    headers: Record<string, string> = {},
  ) =>
  (t: Target) =>
    send(`${t.url}${path}`, {
      method: 'POST',
      headers: { ...headers, 'content-type': contentType },
      body,
    }).then(fromFetch);
const postJson = (path: string, body: unknown) => postRaw(path, JSON.stringify(body));
/** A POST of a JSON body (well-formed or not) with the admin API key. */
const postAsAdmin = (path: string, body: string) =>
  postRaw(path, body, 'application/json', bearer(ADMIN_API_KEY));
/** A JSON body made from the target, e.g. with the registered user's name. */
const postJsonFor = (path: string, body: (t: Target) => unknown) => (t: Target) =>
  postJson(path, body(t))(t);
/** The registered user's name with `password`, as credentials. */
const registeredUser = (password: string) => (t: Target) => ({
  username: t.claims['username'],
  password,
});
const meWith = (headers: (t: Target) => Record<string, string>) => (t: Target) =>
  send(`${t.url}/me`, { headers: headers(t) }).then(fromFetch);
const meWithToken = (token: (t: Target) => string) => meWith((t) => bearer(token(t)));
const nowSeconds = (): number => Date.now() / 1000;
const signed = (claims: JwtPart): string => signHmac(claims, CLUSTER_JWT_SECRET);
/** A token with the right key over an arbitrary payload, JSON or not. */
const signedRaw = (payload: string): string => {
  const input = `${Buffer.from('{"alg":"HS256","typ":"JWT"}').toString('base64url')}.${Buffer.from(payload).toString('base64url')}`;
  return `${input}.${createHmac('sha256', CLUSTER_JWT_SECRET).update(input).digest('base64url')}`;
};
const without = (claims: JwtPart, name: string): JwtPart => {
  const { [name]: _dropped, ...rest } = claims;
  return rest;
};

/** A token was presented and is not acceptable: 401 with an `invalid_token` challenge. */
const invalidToken = (name: string, send: BadInput['send']): BadInput => ({
  name,
  send,
  status: 401,
  challenge: 'invalid_token',
});

const registerOrLogin = ['/auth/register', '/auth/login'] as const;

const BODY_CASES: BadInput[] = registerOrLogin.flatMap((path): BadInput[] => [
  { name: `${path}: malformed JSON`, send: postRaw(path, '{"username": "alice",'), status: 400 },
  { name: `${path}: empty JSON body`, send: postRaw(path, ''), status: 400 },
  { name: `${path}: a JSON array`, send: postJson(path, ['alice', 'password1']), status: 400 },
  { name: `${path}: a JSON string`, send: postJson(path, 'alice'), status: 400 },
  { name: `${path}: JSON null`, send: postRaw(path, 'null'), status: 400 },
  { name: `${path}: no fields`, send: postJson(path, {}), status: 400 },
  {
    name: `${path}: username of the wrong type`,
    send: postJson(path, { username: 12345, password: 'password1' }),
    status: 400,
  },
  {
    name: `${path}: password of the wrong type`,
    send: postJson(path, { username: 'alice', password: ['password1'] }),
    status: 400,
  },
  {
    name: `${path}: username an object`,
    send: postJson(path, { username: { $ne: null }, password: 'password1' }),
    status: 400,
  },
  {
    name: `${path}: username too short (2)`,
    send: postJson(path, { username: 'ab', password: 'password1' }),
    status: 400,
  },
  {
    name: `${path}: username too long (65)`,
    send: postJson(path, { username: 'a'.repeat(65), password: 'password1' }),
    status: 400,
  },
  {
    name: `${path}: username with a character outside [A-Za-z0-9_.-]`,
    send: postJson(path, { username: 'bad name', password: 'password1' }),
    status: 400,
  },
  {
    name: `${path}: username with a NUL byte`,
    send: postJson(path, { username: 'ab\u0000cd', password: 'password1' }),
    status: 400,
  },
  {
    name: `${path}: password too short (7)`,
    send: postJson(path, { username: 'alice', password: 'x'.repeat(7) }),
    status: 400,
  },
  {
    name: `${path}: password too long (257)`,
    send: postJson(path, { username: 'alice', password: 'x'.repeat(257) }),
    status: 400,
  },
  {
    name: `${path}: a __proto__ key`,
    send: postRaw(path, '{"username":"alice","password":"password1","__proto__":{"admin":true}}'),
    status: 400,
  },
  {
    name: `${path}: a text/plain body`,
    send: postRaw(path, 'username=alice', 'text/plain'),
    // Login sets the auth cookie and takes JSON only (an HTML form can send text/plain).
    status: path === '/auth/login' ? 415 : 400,
  },
  {
    name: `${path}: a media type no parser takes (application/xml)`,
    send: postRaw(path, '<username>alice</username>', 'application/xml'),
    status: 415,
  },
  {
    name: `${path}: bytes that are not UTF-8`,
    send: (t) =>
      send(`${t.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]),
      }).then(fromFetch),
    status: 400,
  },
  {
    name: `${path}: an oversized body (100 KB of JSON)`,
    send: postJson(path, { username: 'alice', password: 'password1', pad: 'x'.repeat(100 * 1024) }),
    status: 413,
  },
]);

const TOKEN_CASES: BadInput[] = [
  { name: '/me: no credential at all', send: meWith(() => ({})), status: 401, challenge: 'realm' },
  invalidToken(
    '/me: a token that is not a JWT',
    meWithToken(() => 'not-a-jwt'),
  ),
  invalidToken(
    '/me: three segments of garbage',
    meWithToken(() => 'aaaa.bbbb.cccc'),
  ),
  invalidToken(
    '/me: an empty bearer',
    meWith(() => ({ authorization: 'Bearer ' })),
  ),
  invalidToken(
    '/me: a bearer with characters outside RFC 6750 b64token',
    meWith(() => ({ authorization: 'Bearer a b{c}' })),
  ),
  invalidToken(
    '/me: alg none',
    meWithToken((t) => unsecuredJwt(t.claims)),
  ),
  invalidToken(
    '/me: alg none with the genuine signature kept',
    meWithToken((t) => {
      const [, payload, signature] = t.token.split('.');
      const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
      return `${header}.${payload}.${signature}`;
    }),
  ),
  invalidToken(
    '/me: a wrong signature',
    meWithToken((t) => resigned(t.token, 'some-other-secret-of-at-least-32-bytes')),
  ),
  invalidToken(
    '/me: a tampered payload under the genuine signature',
    meWithToken((t) => {
      const [header, , signature] = t.token.split('.');
      const payload = Buffer.from(JSON.stringify({ ...t.claims, sub: 'someone-else' })).toString(
        'base64url',
      );
      return `${header}.${payload}.${signature}`;
    }),
  ),
  invalidToken(
    '/me: HS512 with the right key (algorithm pinned to HS256)',
    meWithToken((t) => signHmac(t.claims, CLUSTER_JWT_SECRET, 'HS512')),
  ),
  invalidToken(
    '/me: a correctly signed token without jti',
    meWithToken((t) => signed(without(t.claims, 'jti'))),
  ),
  invalidToken(
    '/me: a correctly signed token with a numeric jti',
    meWithToken((t) => signed({ ...t.claims, jti: 42 })),
  ),
  invalidToken(
    '/me: a correctly signed token whose claims are not an object',
    meWithToken(() => signedRaw('[1,2,3]')),
  ),
  invalidToken(
    '/me: a correctly signed token whose claims are JSON null',
    meWithToken(() => signedRaw('null')),
  ),
  invalidToken(
    '/me: a correctly signed token whose claims are not JSON',
    meWithToken(() => signedRaw('not json')),
  ),
  invalidToken(
    '/me: a correctly signed token not valid before an hour from now (nbf)',
    meWithToken((t) => signed({ ...t.claims, nbf: nowSeconds() + 3600 })),
  ),
  invalidToken(
    '/me: a correctly signed token without sub',
    meWithToken((t) => signed(without(t.claims, 'sub'))),
  ),
  invalidToken(
    '/me: a correctly signed token without exp',
    meWithToken((t) => signed(without(t.claims, 'exp'))),
  ),
  invalidToken(
    '/me: a correctly signed, expired token',
    meWithToken((t) => signed({ ...t.claims, iat: nowSeconds() - 1000, exp: nowSeconds() - 100 })),
  ),
  invalidToken(
    '/me: a correctly signed token living longer than ACCESS_TOKEN_TTL',
    meWithToken((t) => signed({ ...t.claims, exp: Math.floor(nowSeconds()) + 30 * 86_400 })),
  ),
  invalidToken(
    '/me: a correctly signed token issued in the future',
    meWithToken((t) => signed({ ...t.claims, iat: nowSeconds() + 3600, exp: nowSeconds() + 3700 })),
  ),
  invalidToken(
    '/me: a token longer than any we issue (9 KB)',
    meWithToken((t) => `${t.token}${'A'.repeat(9 * 1024)}`),
  ),
  invalidToken(
    '/me: a malformed access_token cookie',
    meWith(() => ({ cookie: 'access_token=garbage' })),
  ),
  {
    name: '/me: Basic credentials instead of a bearer token',
    send: meWith(() => ({ authorization: 'Basic YWxpY2U6cGFzc3dvcmQx' })),
    status: 401,
  },
  {
    name: '/me: an oversized Authorization header (20 KB)',
    send: meWith(() => ({ authorization: `Bearer ${'A'.repeat(20 * 1024)}` })),
    status: 431,
  },
  {
    name: '/auth/logout: no credential',
    send: (t) => send(`${t.url}/auth/logout`, { method: 'POST' }).then(fromFetch),
    status: 401,
    challenge: 'realm',
  },
  invalidToken('/auth/logout-all: alg none', (t) =>
    send(`${t.url}/auth/logout-all`, {
      method: 'POST',
      headers: bearer(unsecuredJwt(t.claims)),
    }).then(fromFetch),
  ),
];

const OTHER_CASES: BadInput[] = [
  {
    name: '/auth/login: wrong password',
    send: postJsonFor('/auth/login', registeredUser('wrong password')),
    status: 401,
    challenge: 'realm',
  },
  {
    name: '/auth/login: unknown user',
    send: postJson('/auth/login', { username: 'nobody-here', password: 'password1' }),
    status: 401,
    challenge: 'realm',
  },
  {
    name: '/auth/register: a taken username',
    send: postJsonFor('/auth/register', registeredUser('password1')),
    status: 409,
  },
  {
    name: 'an unknown route',
    send: (t) => send(`${t.url}/no/such/route`).then(fromFetch),
    status: 404,
  },
  {
    name: 'an unknown method on a known route',
    send: (t) => send(`${t.url}/me`, { method: 'DELETE' }).then(fromFetch),
    status: 404,
  },
  {
    name: 'a broken percent-encoding in the path',
    send: (t) =>
      rawRequest(t.port, 'GET /me%E0%A4%A HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n').then(
        fromRaw,
      ),
    status: 400,
  },
  {
    name: 'a request line that is not HTTP',
    send: (t) => rawRequest(t.port, 'HELLO THERE\r\n\r\n').then(fromRaw),
    status: 400,
  },
  {
    name: 'a header line without a colon',
    send: (t) =>
      rawRequest(t.port, 'GET /me HTTP/1.1\r\nHost: x\r\nnot a header\r\n\r\n').then(fromRaw),
    status: 400,
  },
  {
    name: 'an oversized chunked body (30 KB, no Content-Length)',
    send: (t) =>
      rawRequest(
        t.port,
        'POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
          'Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n' +
          `${'400\r\n'.concat('x'.repeat(1024), '\r\n').repeat(30)}0\r\n\r\n`,
      ).then(fromRaw),
    status: 413,
  },
  {
    name: 'a Content-Length announcing 100 KB',
    send: (t) =>
      rawRequest(
        t.port,
        'POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
          'Content-Length: 102400\r\nConnection: close\r\n\r\n{}',
      ).then(fromRaw),
    status: 413,
  },
  {
    name: 'both Content-Length and Transfer-Encoding (request smuggling shape)',
    send: (t) =>
      rawRequest(
        t.port,
        'POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
          'Content-Length: 2\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n',
      ).then(fromRaw),
    status: 400,
  },
  {
    name: 'an oversized request line (20 KB URL)',
    send: (t) =>
      rawRequest(
        t.port,
        `GET /${'a'.repeat(20 * 1024)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
      ).then(fromRaw),
    status: 431,
  },
  {
    name: '/oauth/revoke: no token parameter',
    send: postRaw(
      '/oauth/revoke',
      'token_type_hint=access_token',
      'application/x-www-form-urlencoded',
    ),
    status: 400,
  },
  {
    name: '/oauth/introspect: no admin key',
    send: postRaw('/oauth/introspect', 'token=abc', 'application/x-www-form-urlencoded'),
    status: 401,
    challenge: 'realm',
  },
  invalidToken('/oauth/introspect: a wrong admin key', (t) =>
    send(`${t.url}/oauth/introspect`, {
      method: 'POST',
      headers: { ...bearer('wrong-key'), 'content-type': 'application/x-www-form-urlencoded' },
      body: 'token=abc',
    }).then(fromFetch),
  ),
  {
    // This cluster has no OIDC_ISSUER: the route is there and says it takes no logout token.
    name: '/oidc/backchannel-logout: no provider configured',
    send: postRaw(
      '/oidc/backchannel-logout',
      'logout_token=a.b.c',
      'application/x-www-form-urlencoded',
    ),
    status: 400,
  },
  {
    name: '/oidc/backchannel-logout: no logout_token',
    send: postRaw('/oidc/backchannel-logout', 'x=1', 'application/x-www-form-urlencoded'),
    status: 400,
  },
  {
    name: '/admin/revocations: an iss that is not configured',
    send: postAsAdmin(
      '/admin/revocations',
      JSON.stringify({ jti: 'x', iss: 'https://idp.example' }),
    ),
    status: 400,
  },
  {
    name: '/admin/revocations: neither jti nor sub',
    send: postAsAdmin('/admin/revocations', JSON.stringify({ reason: 'x' })),
    status: 400,
  },
  {
    name: '/admin/revocations: a jti of 300 characters',
    send: postAsAdmin('/admin/revocations', JSON.stringify({ jti: 'j'.repeat(300) })),
    status: 400,
  },
  {
    name: '/admin/revocations: malformed JSON',
    send: postAsAdmin('/admin/revocations', '{"jti":'),
    status: 400,
  },
  {
    name: '/admin/revocations: a limit that is not a number',
    send: (t) =>
      send(`${t.url}/admin/revocations?limit=lots`, { headers: bearer(ADMIN_API_KEY) }).then(
        fromFetch,
      ),
    status: 400,
  },
  {
    name: '/admin/revocations: a cursor this server never issued',
    send: (t) =>
      send(`${t.url}/admin/revocations?cursor=%%%`, { headers: bearer(ADMIN_API_KEY) }).then(
        fromFetch,
      ),
    status: 400,
  },
];

describe('when a replica receives bad input', () => {
  const cluster = new TestCluster({ suite: 'e2e', name: 'bad-input', env: { ADMIN_API_KEY } });
  let target: Target;
  let replica: ApiReplica;

  beforeAll(async () => {
    await cluster.start();
    replica = cluster.replicas[0] as ApiReplica;
    const client = new ApiClient(replica.url);
    const credentials = newCredentials('bad-input');
    await client.register(credentials);
    const token = await client.login(credentials);
    target = { url: replica.url, port: replica.port, token, claims: decodeClaims(token) };
  });

  afterAll(() => cluster.stop());

  const CASES = [...BODY_CASES, ...TOKEN_CASES, ...OTHER_CASES];
  const answers = new Map<string, Answer>();

  it.each(CASES.map((c) => [c.name, c] as const))(
    '%s: answers its 4xx with a JSON body',
    async (name, input) => {
      const answer = await input.send(target);
      answers.set(name, answer);

      expect(answer.status).toBe(input.status);
      expect(answer.header('content-type')).toMatch(/^application\/json/);
      expect(() => JSON.parse(answer.body) as unknown).not.toThrow();
      if (answer.status === 401) {
        const challenge = answer.header('www-authenticate');
        if (input.challenge === 'invalid_token') {
          expect(challenge).toMatch(
            /^Bearer realm="api", error="invalid_token", error_description="[^"]+"$/,
          );
        } else if (input.challenge === 'realm') {
          expect(challenge).toBe(REALM);
        } else {
          expect(challenge).toMatch(/^Bearer realm="api"/);
        }
      }
    },
  );

  it('names the replica (x-instance-id) on every one of those answers', () => {
    expect(answers.size).toBe(CASES.length);
    const unnamed = [...answers]
      .filter(([, answer]) => answer.header('x-instance-id') !== replica.name)
      .map(([name, answer]) => `${name} (HTTP ${answer.status})`);
    expect(unnamed).toEqual([]);
  });

  it('still accepts the genuine token, so that the forged variants were refused on their own merit', async () => {
    expect(await new ApiClient(target.url).meStatus(target.token)).toBe(200);
  });

  it('accepts the boundary values: username of 3 and 64 characters, password of 8 and 256', async () => {
    const client = new ApiClient(target.url);
    const suffix = newCredentials('b')
      .username.slice(-6)
      .replace(/[^A-Za-z0-9]/g, 'x');
    for (const [username, password] of [
      [`u${suffix.slice(0, 2)}`, 'p'.repeat(8)],
      [`${'u'.repeat(58)}${suffix}`, 'p'.repeat(256)],
    ] as const) {
      expect(username.length === 3 || username.length === 64).toBe(true);
      await client.register({ username, password });
      expect(await client.login({ username, password })).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    }
  });

  it('is still alive and ready afterwards, as is every other replica', async () => {
    for (const running of cluster.replicas) {
      expect(running.process.running).toBe(true);
      const client = new ApiClient(running.url);
      expect((await send(`${running.url}/health/live`)).status).toBe(200);
      expect(await client.isReady()).toBe(true);
    }
  });
});
