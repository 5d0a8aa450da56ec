import { ApiClient, bearer, newCredentials, send } from './support/api-client';
import { E2E_JWT_SECRET, E2eCluster } from './support/e2e-cluster';

const ADMIN_KEY = 'e2e-logging-admin-key-0123456789';

describe('the structured logs', () => {
  const cluster = new E2eCluster({
    name: 'logging',
    replicas: 1,
    env: { LOG_LEVEL: 'trace', ADMIN_API_KEY: ADMIN_KEY },
  });
  let url: string;

  beforeAll(async () => {
    await cluster.start();
    url = cluster.urls[0] as string;
  });

  afterAll(() => cluster.stop());

  describe('when credentials travel through every route', () => {
    it('never write a token, a password or a secret, and tag each request with its id', async () => {
      const client = new ApiClient(url);
      const credentials = newCredentials('logged');
      await client.register(credentials);
      const token = await client.login(credentials);
      const other = await client.login(credentials);
      await send(`${url}/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: credentials.username, password: 'wrong password!' }),
      });
      const me = await send(`${url}/me`, {
        headers: { ...bearer(token), 'x-request-id': 'trace-me-1' },
      });
      expect(me.headers.get('x-request-id')).toBe('trace-me-1');
      await send(`${url}/me?token=${token}`, { headers: { cookie: `access_token=${token}` } });
      await send(`${url}/oauth/introspect`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${ADMIN_KEY}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ token: other }).toString(),
      });
      await send(`${url}/oauth/revoke`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token: other }).toString(),
      });
      await client.logout(token);

      const output = (cluster.replicas[0] as { process: { tail(): string } }).process.tail();
      expect(output).toContain('"id":"trace-me-1"');
      expect(output).toContain('request completed');
      for (const secret of [
        token,
        other,
        token.split('.')[2] as string,
        credentials.password,
        'wrong password!',
        E2E_JWT_SECRET,
        ADMIN_KEY,
      ]) {
        expect(output).not.toContain(secret);
      }
    });
  });
});
