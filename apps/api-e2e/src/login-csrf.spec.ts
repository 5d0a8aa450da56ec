import {
  ApiClient,
  bearer,
  type Credentials,
  newCredentials,
  send,
  TestCluster,
} from '@rescind/testing';

/** What a cross-site page can make a browser send, and what it then adds to the request. */
const CROSS_SITE_FORMS: readonly (readonly [string, string, (body: string) => string])[] = [
  [
    'an HTML form (urlencoded)',
    'application/x-www-form-urlencoded',
    (json) => new URLSearchParams(JSON.parse(json) as Record<string, string>).toString(),
  ],
  ['an HTML form (text/plain)', 'text/plain', (json) => json],
  [
    'an HTML form (multipart)',
    'multipart/form-data; boundary=x',
    (json) => {
      const fields = JSON.parse(json) as Record<string, string>;
      return `${Object.entries(fields)
        .map(
          ([name, value]) =>
            `--x\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`,
        )
        .join('')}--x--\r\n`;
    },
  ],
];

describe('the routes that set or clear the auth cookie, against cross-site requests', () => {
  const cluster = new TestCluster({
    suite: 'e2e',
    name: 'login-csrf',
    replicas: [{}, { env: { HTTP_ADAPTER: 'express' } }],
  });

  beforeAll(() => cluster.start());
  afterAll(() => cluster.stop());

  describe.each([
    ['fastify', 0],
    ['express', 1],
  ] as const)('on %s', (_adapter, index) => {
    const urlOf = (): string => cluster.urls[index] as string;

    /** A freshly registered user's credentials. */
    async function registeredUser(): Promise<Credentials> {
      const credentials = newCredentials('csrf');
      await new ApiClient(urlOf()).register(credentials);
      return credentials;
    }

    /** A freshly registered user's credentials as a JSON body. */
    async function registered(): Promise<string> {
      return JSON.stringify(await registeredUser());
    }

    function login(body: string, headers: Record<string, string>) {
      return send(`${urlOf()}/auth/login`, { method: 'POST', headers, body });
    }

    it.each(CROSS_SITE_FORMS)(
      'refuses a login sent as %s with 415 and a JSON error, and sets no cookie',
      async (_label, contentType, encode) => {
        const answer = await login(encode(await registered()), { 'content-type': contentType });
        expect(answer.status).toBe(415);
        expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
        expect(answer.json).toMatchObject({ statusCode: 415 });
        expect(answer.headers.get('set-cookie')).toBeNull();
      },
    );

    it.each([
      ['Sec-Fetch-Site: cross-site', { 'sec-fetch-site': 'cross-site' }],
      ['an Origin of another site', { origin: 'https://attacker.example' }],
      ['an Origin of another port', { origin: 'http://127.0.0.1:1' }],
      ['Origin: null', { origin: 'null' }],
    ])(
      'refuses a JSON login marked with %s with 403, and sets no cookie',
      async (_label, marks) => {
        const answer = await login(await registered(), {
          'content-type': 'application/json',
          ...marks,
        });
        expect(answer.status).toBe(403);
        expect(answer.json).toMatchObject({ statusCode: 403, error: 'ERR_CROSS_SITE_REQUEST' });
        expect(answer.headers.get('set-cookie')).toBeNull();
      },
    );

    it('signs in a JSON login from this origin, or from a client that is not a browser', async () => {
      const own = new URL(urlOf());
      const cases: Record<string, string>[] = [
        {},
        { origin: own.origin, 'sec-fetch-site': 'same-origin' },
        { origin: own.origin.replace('127.0.0.1', 'localhost') },
      ];
      for (const marks of cases) {
        const headers = { 'content-type': 'application/json', ...marks };
        const target = marks['origin']?.includes('localhost')
          ? urlOf().replace('127.0.0.1', 'localhost')
          : urlOf();
        const answer = await send(`${target}/auth/login`, {
          method: 'POST',
          headers,
          body: await registered(),
        });
        expect([marks, answer.status]).toEqual([marks, 200]);
        expect(answer.headers.get('set-cookie')).toMatch(/^access_token=/);
        expect(answer.headers.get('cache-control')).toBe('no-store');
      }
    });

    it('refuses a cross-site or form logout and logout-all, and keeps the token valid', async () => {
      const client = new ApiClient(urlOf());
      const token = await client.login(await registeredUser());
      for (const path of ['/auth/logout', '/auth/logout-all']) {
        const crossSite = await send(`${urlOf()}${path}`, {
          method: 'POST',
          headers: { ...bearer(token), origin: 'https://attacker.example' },
        });
        expect([path, crossSite.status]).toEqual([path, 403]);
        const formPost = await send(`${urlOf()}${path}`, {
          method: 'POST',
          headers: { ...bearer(token), 'content-type': 'application/x-www-form-urlencoded' },
          body: 'a=b',
        });
        expect([path, formPost.status]).toEqual([path, 415]);
      }
      expect(await client.meStatus(token)).toBe(200);
      // Without a body (no Content-Type), as every client so far has called it.
      await client.logout(token);
      expect(await client.meStatus(token)).toBe(401);
    });

    it('refuses a cross-site or form refresh, and refreshes by the cookie alone from this site, setting both cookies', async () => {
      const signedIn = await login(await registered(), { 'content-type': 'application/json' });
      const refreshToken = (signedIn.json as { refresh_token: string }).refresh_token;
      const cookie = { cookie: `refresh_token=${refreshToken}` };
      const refresh = (headers: Record<string, string>, body?: string) =>
        send(`${urlOf()}/auth/refresh`, {
          method: 'POST',
          headers: { ...cookie, ...headers },
          body,
        });

      const crossSiteMarks: Record<string, string>[] = [
        { origin: 'https://attacker.example' },
        { 'sec-fetch-site': 'cross-site' },
      ];
      for (const marks of crossSiteMarks) {
        const crossSite = await refresh(marks);
        expect([marks, crossSite.status]).toEqual([marks, 403]);
        expect(crossSite.headers.get('set-cookie')).toBeNull();
      }
      const formPost = await refresh({ 'content-type': 'text/plain' }, '{}');
      expect(formPost.status).toBe(415);

      // The refresh token is unspent: the same-site refresh by cookie rotates it.
      const own = await refresh({
        origin: new URL(urlOf()).origin,
        'sec-fetch-site': 'same-origin',
      });
      expect(own.status).toBe(200);
      expect(own.headers.get('cache-control')).toBe('no-store');
      const cookies = own.headers.getSetCookie();
      expect(cookies.map((set) => set.split('=')[0])).toEqual(['access_token', 'refresh_token']);
      expect(cookies[1]).toMatch(/; HttpOnly; Secure; SameSite=Strict; Path=\/auth; Max-Age=\d+$/);

      // Logout clears both, on either adapter.
      const access = (own.json as { access_token: string }).access_token;
      const logout = await send(`${urlOf()}/auth/logout`, {
        method: 'POST',
        headers: bearer(access),
      });
      expect(logout.headers.getSetCookie()).toEqual([
        expect.stringMatching(/^access_token=;.*Max-Age=0$/),
        expect.stringMatching(/^refresh_token=;.*Path=\/auth; Max-Age=0$/),
      ]);
    });
  });
});
