import { randomBytes } from 'node:crypto';
import {
  ApiClient,
  type ApiResponse,
  bearer,
  newCredentials,
  send,
  TestCluster,
} from '@rescind/testing';
import { login, refreshAnswer, type SessionPair } from './support/session-client';

const ADMIN_API_KEY = 'e2e-session-bad-input-admin-key';

/** What a case needs: the victim's live session, the caller's, and a session already ended. */
interface Sessions {
  readonly url: string;
  /** The caller's live session. */
  readonly caller: SessionPair;
  /** Another user's live session. */
  readonly other: SessionPair;
  /** A session of the caller that was ended (logged out). */
  readonly ended: SessionPair;
}

interface BadInput {
  readonly name: string;
  readonly send: (s: Sessions) => Promise<ApiResponse>;
  readonly status: number;
  /** The `error` member of the JSON body, where the contract names one. */
  readonly error?: string;
}

const json = { 'content-type': 'application/json' };
const postRefresh =
  (body: string | undefined, headers: Record<string, string> = json) =>
  (s: Sessions) =>
    send(`${s.url}/auth/refresh`, { method: 'POST', headers, body });
const refreshWith = (token: (s: Sessions) => unknown) => (s: Sessions) =>
  postRefresh(JSON.stringify({ refresh_token: token(s) }))(s);
const refreshCookie = (value: (s: Sessions) => string) => (s: Sessions) =>
  send(`${s.url}/auth/refresh`, {
    method: 'POST',
    headers: { cookie: `refresh_token=${value(s)}` },
  });
const deleteSession = (sid: (s: Sessions) => string) => (s: Sessions) =>
  send(`${s.url}/auth/sessions/${sid(s)}`, {
    method: 'DELETE',
    headers: bearer(s.caller.access_token),
  });
const adminRevoke = (body: unknown) => (s: Sessions) =>
  send(`${s.url}/admin/revocations`, {
    method: 'POST',
    headers: { ...bearer(ADMIN_API_KEY), ...json },
    body: JSON.stringify(body),
  });
/** The caller's refresh token with one character changed to `c`, at position `at`. */
const altered = (s: Sessions, at: number, c: string): string =>
  s.caller.refresh_token.slice(0, at) + c + s.caller.refresh_token.slice(at + 1);

const grant = (name: string, send: BadInput['send']): BadInput => ({
  name,
  send,
  status: 401,
  error: 'invalid_grant',
});

/** SPEC's bad input of sessions (README, "Routes"): each a 4xx with a JSON body, never a 5xx. */
const CASES: BadInput[] = [
  grant('/auth/refresh: a refresh token one character short', (s) =>
    refreshWith(() => s.caller.refresh_token.slice(1))(s),
  ),
  grant('/auth/refresh: a refresh token one character long', (s) =>
    refreshWith(() => `${s.caller.refresh_token}A`)(s),
  ),
  grant('/auth/refresh: a refresh token with a base64 "+"', (s) =>
    refreshWith(() => altered(s, 5, '+'))(s),
  ),
  grant('/auth/refresh: a refresh token with padding', (s) =>
    refreshWith(() => altered(s, 42, '='))(s),
  ),
  grant('/auth/refresh: a refresh token with a NUL', (s) =>
    refreshWith(() => altered(s, 0, '\u0000'))(s),
  ),
  grant('/auth/refresh: a refresh token with non-ASCII', (s) =>
    refreshWith(() => altered(s, 10, 'é'))(s),
  ),
  grant(
    '/auth/refresh: 10 KB of refresh token',
    refreshWith(() => 'A'.repeat(10_000)),
  ),
  grant(
    '/auth/refresh: an unknown refresh token of the right shape',
    refreshWith(() => randomBytes(32).toString('base64url')),
  ),
  grant(
    '/auth/refresh: an access token sent as a refresh token',
    refreshWith((s) => s.caller.access_token),
  ),
  grant(
    '/auth/refresh: the refresh token of a session that was ended',
    refreshWith((s) => s.ended.refresh_token),
  ),
  grant(
    '/auth/refresh: a cookie of the wrong shape',
    refreshCookie(() => '%00%ff;;'),
  ),
  grant(
    '/auth/refresh: an access token in the refresh cookie',
    refreshCookie((s) => s.caller.access_token),
  ),
  {
    name: '/auth/refresh: no body and no cookie',
    send: postRefresh(undefined, {}),
    status: 400,
    error: 'invalid_request',
  },
  {
    name: '/auth/refresh: an empty JSON object',
    send: postRefresh('{}'),
    status: 400,
    error: 'invalid_request',
  },
  {
    name: '/auth/refresh: a refresh token that is a number',
    send: refreshWith(() => 12345),
    status: 400,
    error: 'invalid_request',
  },
  {
    name: '/auth/refresh: a refresh token that is an array',
    send: refreshWith((s) => [s.caller.refresh_token]),
    status: 400,
    error: 'invalid_request',
  },
  { name: '/auth/refresh: a JSON array', send: postRefresh('["x"]'), status: 400 },
  { name: '/auth/refresh: malformed JSON', send: postRefresh('{"refresh_token":'), status: 400 },
  {
    name: '/auth/refresh: a form (no JSON)',
    send: (s) =>
      postRefresh(`refresh_token=${s.caller.refresh_token}`, {
        'content-type': 'application/x-www-form-urlencoded',
      })(s),
    status: 415,
  },
  {
    name: '/auth/refresh: from another site',
    send: (s) =>
      postRefresh(JSON.stringify({ refresh_token: s.caller.refresh_token }), {
        ...json,
        origin: 'https://evil.example',
      })(s),
    status: 403,
  },
  {
    name: '/me: a refresh token sent as a bearer access token',
    send: (s) => send(`${s.url}/me`, { headers: bearer(s.caller.refresh_token) }),
    status: 401,
  },
  {
    name: '/me: a refresh token in the access_token cookie',
    send: (s) =>
      send(`${s.url}/me`, { headers: { cookie: `access_token=${s.caller.refresh_token}` } }),
    status: 401,
  },
  {
    name: "/auth/sessions/:sid: another user's session",
    send: deleteSession((s) => s.other.sid),
    status: 404,
  },
  {
    name: '/auth/sessions/:sid: a session that was ended',
    send: deleteSession((s) => s.ended.sid),
    status: 404,
  },
  {
    name: '/auth/sessions/:sid: an unknown session id of the right shape',
    send: deleteSession(() => randomBytes(16).toString('base64url')),
    status: 404,
  },
  { name: '/auth/sessions/:sid: a malformed sid', send: deleteSession(() => 'x'), status: 404 },
  {
    name: '/auth/sessions/:sid: 300 characters',
    send: deleteSession(() => 's'.repeat(300)),
    status: 404,
  },
  {
    name: '/auth/sessions/:sid: a percent-encoded NUL',
    send: deleteSession(() => '%00'),
    status: 404,
  },
  {
    name: '/auth/sessions/:sid: no credential',
    send: (s) => send(`${s.url}/auth/sessions/${s.caller.sid}`, { method: 'DELETE' }),
    status: 401,
  },
  {
    name: '/auth/sessions: a refresh token as the credential',
    send: (s) => send(`${s.url}/auth/sessions`, { headers: bearer(s.caller.refresh_token) }),
    status: 401,
  },
  {
    name: '/admin/revocations: a sid of 300 characters',
    send: adminRevoke({ sid: 's'.repeat(300) }),
    status: 400,
  },
  {
    name: '/admin/revocations: a sid that is a number',
    send: adminRevoke({ sid: 7 }),
    status: 400,
  },
  {
    name: '/admin/revocations: a sid with an exp',
    send: adminRevoke({ sid: 'abc', exp: 1 }),
    status: 400,
  },
  {
    name: '/admin/revocations: both a sid and a sub',
    send: adminRevoke({ sid: 'abc', sub: 'def' }),
    status: 400,
  },
];

describe('when a replica receives bad input about sessions', () => {
  const cluster = new TestCluster({
    suite: 'e2e',
    name: 'session-bad-input',
    replicas: 1,
    env: { ADMIN_API_KEY },
  });
  let sessions: Sessions;
  let client: ApiClient;

  beforeAll(async () => {
    await cluster.start();
    const url = cluster.urls[0] as string;
    client = new ApiClient(url);
    const caller = newCredentials('bad-session');
    const other = newCredentials('other-user');
    await client.register(caller);
    await client.register(other);
    const ended = await login(client, caller);
    await client.logout(ended.access_token);
    sessions = {
      url,
      caller: await login(client, caller),
      other: await login(client, other),
      ended,
    };
  });

  afterAll(() => cluster.stop());

  it.each(CASES.map((c) => [c.name, c] as const))(
    '%s: its 4xx with a JSON body',
    async (_name, input) => {
      const answer = await input.send(sessions);
      expect(answer.status).toBe(input.status);
      expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
      expect(() => JSON.parse(answer.text) as unknown).not.toThrow();
      if (input.error !== undefined) expect(answer.json).toMatchObject({ error: input.error });
      // Never a working session: no token and no cookie.
      expect(answer.json).not.toHaveProperty('access_token');
      expect(answer.json).not.toHaveProperty('refresh_token');
      expect(answer.headers.getSetCookie()).toEqual([]);
    },
  );

  it('leaves every live session working, so that the cases were refused on their own merit', async () => {
    expect(await client.meStatus(sessions.other.access_token)).toBe(200);
    expect(await client.meStatus(sessions.caller.access_token)).toBe(200);
    expect((await refreshAnswer(client, sessions.caller.refresh_token)).status).toBe(200);
    expect((await refreshAnswer(client, sessions.other.refresh_token)).status).toBe(200);
  });

  it('is still alive and ready afterwards', async () => {
    expect((await send(`${sessions.url}/health/live`)).status).toBe(200);
    expect(await client.isReady()).toBe(true);
  });
});
