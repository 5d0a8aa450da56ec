import {
  ApiClient,
  bearer,
  CLUSTER_JWT_SECRET,
  newCredentials,
  send,
  TestCluster,
  waitFor,
} from '@rescind/testing';
import { login, refresh } from './support/session-client';

const ADMIN_KEY = 'e2e-logging-admin-key-0123456789';
/** An SGR escape sequence (a colour), as pino-pretty writes them. */
const ANSI_COLOUR = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');

describe('the structured logs', () => {
  const cluster = new TestCluster({
    suite: 'e2e',
    name: 'logging',
    env: { LOG_LEVEL: 'trace', ADMIN_API_KEY: ADMIN_KEY },
    replicas: [
      {},
      { env: { HTTP_ADAPTER: 'express' } },
      { env: { LOG_LEVEL: 'warn' } },
      // The default level, stopped by the last test.
      { env: { LOG_LEVEL: 'info', SHUTDOWN_GRACE_MS: '0' } },
      // Readable lines, as on a terminal (README, "Configuration").
      { env: { LOG_LEVEL: 'info', LOG_FORMAT: 'pretty' } },
    ],
  });
  const output = (replica: number): string =>
    (cluster.replicas[replica] as { process: { tail(): string } }).process.tail();
  let url: string;

  beforeAll(async () => {
    await cluster.start();
    url = cluster.urls[0] as string;
  });

  afterAll(() => cluster.stop());

  describe('when a replica starts', () => {
    const startLines = (replica: number): string[] => output(replica).split('\n');
    const framework = /RouterExplorer|InstanceLoader|RoutesResolver|NestFactory/;

    it("says where it listens, and keeps Nest's start-up narration for debug", () => {
      const info = startLines(3);
      expect(info.some((line) => /"context":"Main".*listening on http:/.test(line))).toBe(true);
      expect(info.filter((line) => framework.test(line))).toEqual([]);
      // Nor a deprecation or any other warning of Node's or a framework's (FSTDEP…, DEP…).
      expect(info.filter((line) => /Warning/.test(line))).toEqual([]);
      const trace = startLines(0).filter((line) => framework.test(line));
      expect(trace.length).toBeGreaterThan(5);
      for (const line of trace) expect(JSON.parse(line)).toMatchObject({ level: 20 });
    });

    it('writes readable lines, not JSON, with LOG_FORMAT=pretty', async () => {
      await send(`${cluster.urls[4] as string}/me`, {
        headers: { 'x-request-id': 'pretty-1' },
      });
      const lines = await waitFor(
        () => {
          // Colour codes stripped: pino-pretty colours where it guesses a reader (CI=true is one).
          const all = startLines(4)
            .map((line) => line.replace(ANSI_COLOUR, ''))
            .filter((line) => line.trim() !== '');
          return all.some((line) => line.includes('pretty-1')) && all;
        },
        { timeoutMs: 10_000, description: 'the pretty access line' },
      );
      expect(lines.filter((line) => line.trimStart().startsWith('{'))).toEqual([]);
      expect(lines).toContainEqual(
        expect.stringMatching(
          /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: \[Main\] API replica .* listening on http:/,
        ),
      );
      expect(lines.filter((line) => framework.test(line))).toEqual([]);
    });
  });

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
      // Refresh tokens: in a body, in the cookie, revoked and introspected.
      const first = await login(client, credentials);
      const second = await refresh(client, first.refresh_token);
      const third = await send(`${url}/auth/refresh`, {
        method: 'POST',
        headers: { cookie: `refresh_token=${second.refresh_token}` },
      });
      const current = (third.json as { refresh_token: string }).refresh_token;
      for (const path of ['/oauth/introspect', '/oauth/revoke']) {
        await send(`${url}${path}`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${ADMIN_KEY}`,
            'content-type': 'application/x-www-form-urlencoded',
          },
          body: new URLSearchParams({ token: current }).toString(),
        });
      }
      await client.logout(token);

      // Access lines are written through a buffer: wait for the last request's line.
      const log = await waitFor(
        () => {
          const text = output(0);
          return text.includes('"id":"trace-me-1"') && text.includes('"url":"/auth/logout"')
            ? text
            : undefined;
        },
        { timeoutMs: 5_000, description: 'the access lines of trace-me-1 and of the logout' },
      );
      expect(log).toContain('request completed');
      for (const secret of [
        token,
        other,
        token.split('.')[2] as string,
        first.refresh_token,
        second.refresh_token,
        current,
        credentials.password,
        'wrong password!',
        CLUSTER_JWT_SECRET,
        ADMIN_KEY,
      ]) {
        expect(log).not.toContain(secret);
      }
    });
  });

  describe.each([
    ['Fastify', 0],
    ['Express', 1],
  ])('when a request comes without an id (%s)', (_adapter, replica) => {
    it('answers with a new one, and its log line names the same', async () => {
      const answer = await send(`${cluster.urls[replica]}/health/live?probe=${replica}`);
      const id = answer.headers.get('x-request-id');
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      const res = await send(`${cluster.urls[replica]}/me`);
      const meId = res.headers.get('x-request-id') as string;
      expect(meId).toMatch(/^[0-9a-f-]{36}$/);
      expect(meId).not.toBe(id);
      const line = await waitFor(
        () =>
          output(replica)
            .split('\n')
            .find(
              (l) =>
                l.includes('request completed') && l.includes(`"url":"/me"`) && l.includes(meId),
            ),
        {
          timeoutMs: 5_000,
          description: `the request line of ${meId}\n${output(replica).slice(-2000)}`,
        },
      );
      // The access line's fields, and nothing of the request beyond them.
      expect(JSON.parse(line)).toEqual({
        level: 30,
        time: expect.any(Number),
        instance: expect.stringMatching(/^api-/),
        req: { id: meId, method: 'GET', url: '/me' },
        res: { statusCode: 401 },
        responseTime: expect.any(Number),
        msg: 'request completed',
      });
    });
  });

  describe('when LOG_LEVEL is warn', () => {
    it('writes no request line, yet still gives every answer its request id', async () => {
      const url = cluster.urls[2] as string;
      const given = await send(`${url}/me`, { headers: { 'x-request-id': 'quiet-1' } });
      expect(given.headers.get('x-request-id')).toBe('quiet-1');
      const fresh = await send(`${url}/me`);
      expect(fresh.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
      expect(output(2)).not.toContain('request completed');
      expect(output(2)).not.toContain('quiet-1');
    });
  });

  describe('when a replica at the default level (info) receives SIGTERM', () => {
    it('writes every line up to its exit: the last requests answered and its own stop', async () => {
      const replica = cluster.replicas[3] as { stop(signal: 'SIGTERM'): Promise<number | null> };
      const url = cluster.urls[3] as string;
      const ids = Array.from({ length: 20 }, (_, i) => `last-line-${i}`);
      for (const id of ids) {
        const answer = await send(`${url}/bench/floor`, { headers: { 'x-request-id': id } });
        expect(answer.status).toBe(200);
      }
      // At once: the log is buffered, and these lines are still in the buffer.
      expect(await replica.stop('SIGTERM')).toBe(0);

      const lines = output(3).split('\n');
      for (const id of ids) {
        expect(lines.filter((l) => l.includes(`"id":"${id}"`))).toHaveLength(1);
      }
      expect(lines.filter((l) => l.includes('"msg":"stopped"'))).toHaveLength(1);
    });
  });
});
