import { type ApiClient, bearer, newCredentials, TestCluster } from '@rescind/testing';
import { decodeClaims } from './support/jwt-forge';
import { login } from './support/session-client';

const ADMIN_API_KEY = 'e2e-admin-user-sessions-key';

/**
 * `GET /admin/users/:user/sessions` (README, "Routes"): a user's live sessions for the operator
 * console, by username or by id, on Fastify (a) and Express (b).
 */
describe('GET /admin/users/:user/sessions', () => {
  const cluster = new TestCluster({
    suite: 'e2e',
    name: 'admin-user-sessions',
    env: { ADMIN_API_KEY, TRUST_PROXY: '127.0.0.0/8, ::1/128' },
    replicas: [{}, { env: { HTTP_ADAPTER: 'express' } }],
  });

  beforeAll(() => cluster.start());
  afterAll(() => cluster.stop());

  const clients = (): ApiClient[] => cluster.clients;
  const sessionsOf = (client: ApiClient, user: string, key = ADMIN_API_KEY) =>
    client.request<Record<string, unknown>>(`/admin/users/${encodeURIComponent(user)}/sessions`, {
      headers: bearer(key),
    });

  it('lists the live sessions by username (any case) and by sub, newest use first', async () => {
    const [a, b] = clients() as [ApiClient, ApiClient];
    const credentials = newCredentials('admin_list');
    await a.register(credentials);
    const first = await login(a, credentials, {
      'user-agent': 'first device',
      'x-forwarded-for': '203.0.113.7',
    });
    const second = await login(b, credentials, { 'user-agent': 'second device' });
    const ended = await login(a, credentials);
    await a.logout(ended.access_token);
    const sub = String(decodeClaims(first.access_token)['sub']);

    for (const client of [a, b]) {
      for (const user of [credentials.username, credentials.username.toUpperCase(), sub]) {
        const answer = await sessionsOf(client, user);
        expect(answer.status).toBe(200);
        expect(answer.json).toEqual({
          sub,
          username: credentials.username,
          items: [
            {
              sid: second.sid,
              created_at: expect.any(String),
              last_used_at: expect.any(String),
              user_agent: 'second device',
              ip: expect.any(String),
            },
            {
              sid: first.sid,
              created_at: expect.any(String),
              last_used_at: expect.any(String),
              user_agent: 'first device',
              ip: '203.0.113.7',
            },
          ],
        });
      }
    }
  });

  it('answers 404 ERR_USER_NOT_FOUND for an unknown user, 401 without the key', async () => {
    for (const client of clients()) {
      for (const user of ['nobody_here', '00000000-0000-4000-8000-000000000000']) {
        const answer = await sessionsOf(client, user);
        expect(answer.status).toBe(404);
        expect(answer.json).toMatchObject({ error: 'ERR_USER_NOT_FOUND' });
      }
      // Longer than any id: Fastify refuses the path parameter itself (404 ERR_NOT_FOUND).
      expect((await sessionsOf(client, 'x'.repeat(300))).status).toBe(404);
      expect((await sessionsOf(client, 'nobody_here', 'wrong-key')).status).toBe(401);
      expect((await client.request('/admin/users/nobody_here/sessions')).status).toBe(401);
    }
  });

  it('lists a registered user that never logged in with no sessions', async () => {
    const credentials = newCredentials('admin_none');
    await (clients()[0] as ApiClient).register(credentials);
    const answer = await sessionsOf(clients()[1] as ApiClient, credentials.username);
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({ username: credentials.username, items: [] });
  });
});
