import { type ApiClient, newCredentials, TestCluster, waitFor } from '@rescind/testing';
import { type Browser } from 'playwright-core';
import { launchChromium } from './support/chromium';
import { ConsolePage, UI_TIMEOUT_MS } from './support/console-page';

const ADMIN_API_KEY = 'e2e-console-admin-key';
const admin = { authorization: `Bearer ${ADMIN_API_KEY}`, 'content-type': 'application/json' };
/** Devices the test sessions claim to be, so that the sessions table reads like a real one. */
const DEVICES = ['Firefox on a laptop', 'Safari on a phone', 'curl on a build server'];

/** A logged-in session: its access token and its id. */
interface Session {
  readonly token: string;
  readonly sid: string;
}

function claimsOf(token: string): Record<string, unknown> {
  const payload = token.split('.')[1] ?? '';
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
}

/**
 * The operator console (README, "Operator console") in headless Chromium against three real
 * replicas (the third on Express), with the key typed in as an operator would.
 */
describe('operator console in a browser', () => {
  const cluster = new TestCluster({
    suite: 'e2e',
    name: 'console',
    env: { ADMIN_API_KEY },
    replicas: [{}, {}, { env: { HTTP_ADAPTER: 'express' } }],
  });
  let browser: Browser | undefined;
  let clients: ApiClient[];
  const pages: ConsolePage[] = [];

  beforeAll(async () => {
    const [launched] = await Promise.all([launchChromium(), cluster.start()]);
    browser = launched;
    clients = cluster.clients;
  });

  afterEach(async () => {
    for (const page of pages.splice(0)) {
      expect(page.cspViolations).toEqual([]);
      await page.close();
    }
  });

  afterAll(async () => {
    await browser?.close();
    await cluster.stop();
  });

  async function open(replica = 0): Promise<ConsolePage> {
    const page = await ConsolePage.open(browser as Browser, cluster.urls[replica] as string);
    pages.push(page);
    return page;
  }

  /** A registered user logged in once on each replica in turn, `count` times. */
  async function userWithSessions(
    tag: string,
    count: number,
  ): Promise<{ username: string; sub: string; sessions: Session[] }> {
    const credentials = newCredentials(tag);
    await (clients[0] as ApiClient).register(credentials);
    const sessions: Session[] = [];
    for (let i = 0; i < count; i++) {
      const client = clients[i % clients.length] as ApiClient;
      const answer = await client.request<{ access_token: string }>('/auth/login', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': DEVICES[i % DEVICES.length] },
        body: JSON.stringify(credentials),
      });
      expect(answer.status).toBe(200);
      const token = String(answer.json?.access_token);
      sessions.push({ token, sid: String(claimsOf(token)['sid']) });
    }
    const sub = String(claimsOf((sessions[0] as Session).token)['sub']);
    return { username: credentials.username, sub, sessions };
  }

  /** What every replica answers `GET /me` with each token: `200` or `revoked`. */
  async function verdicts(tokens: readonly string[]): Promise<string[][]> {
    return Promise.all(tokens.map((t) => Promise.all(clients.map((client) => client.check(t)))));
  }

  /** Waits until the fleet table lists every replica as ready and in sync. */
  async function fleetInSync(page: ConsolePage): Promise<void> {
    const rows = page.page.locator('#fleet-rows tr[data-ready="true"][data-in-sync="true"]');
    await waitFor(async () => (await rows.count()) === clients.length, {
      timeoutMs: UI_TIMEOUT_MS,
      intervalMs: 100,
      description: `${clients.length} replicas ready and in sync in the fleet table`,
    });
  }

  it('says plainly when the key is wrong (401) and loads nothing', async () => {
    const page = await open();
    await page.useKey('not-the-admin-key');
    await page.page.getByText('The admin key was refused (401)').waitFor();
    expect(await page.page.locator('#fleet-rows tr').count()).toBe(0);
    expect(await page.page.locator('#revocation-rows tr').count()).toBe(0);
  });

  it('keeps the key in session storage only, and shows the fleet in sync, refreshed', async () => {
    const page = await open(1);
    await page.useKey(ADMIN_API_KEY);
    await fleetInSync(page);
    for (const replica of cluster.replicas) {
      await page.page.locator(`#fleet-rows tr[data-instance="${replica.name}"]`).waitFor();
    }
    // Refreshed every second: the report age keeps changing.
    const reported = page.page.locator('#fleet-rows tr td:last-child').first();
    const before = await reported.textContent();
    await waitFor(async () => (await reported.textContent()) !== before, {
      timeoutMs: UI_TIMEOUT_MS,
      intervalMs: 100,
      description: 'the fleet table to refresh',
    });

    const stored = await page.storedSecrets();
    expect(stored.session).toContain(ADMIN_API_KEY);
    expect(stored.local).toBe('{}');
    expect(stored.cookies.join(';')).not.toContain(ADMIN_API_KEY);
    expect(page.page.url()).not.toContain(ADMIN_API_KEY);
    expect(await page.page.getByLabel('ADMIN_API_KEY').inputValue()).toBe('');

    // A reload keeps the tab's key; "Forget key" drops it.
    await page.page.reload();
    await fleetInSync(page);
    await page.screenshot('fleet', 'fleet');
    await page.page.getByRole('button', { name: 'Forget key' }).click();
    expect((await page.storedSecrets()).session).toBe('{}');
  });

  it('revokes one session of a user and shows every replica confirming it', async () => {
    const { username, sessions } = await userWithSessions('console_one', 3);
    const [revoked, ...kept] = sessions as [Session, ...Session[]];
    const page = await open(2);
    await page.useKey(ADMIN_API_KEY);
    await page.page.getByLabel('Username or user id').fill(username);
    await page.page.locator('#user-reason').fill('laptop reported stolen');
    await page.page.getByRole('button', { name: 'Show sessions' }).click();
    await waitFor(async () => (await page.page.locator('#session-rows tr').count()) === 3, {
      timeoutMs: UI_TIMEOUT_MS,
      description: 'the three sessions listed',
    });

    await page.page.getByRole('button', { name: `Revoke session ${revoked.sid}` }).click();
    const box = page.page.locator('#user-confirmation .confirmation[data-state="confirmed"]');
    await box.waitFor();
    expect(await box.locator('.confirmation-summary').textContent()).toMatch(
      new RegExp(`^Session ${revoked.sid}: confirmed by 3 of 3 replicas in `),
    );
    expect(await box.locator('li[data-confirmed="true"]').count()).toBe(3);

    // Confirmed means applied: every replica rejects the token now, without waiting.
    expect(await verdicts([revoked.token])).toEqual([['revoked', 'revoked', 'revoked']]);
    expect(await verdicts(kept.map((s) => s.token))).toEqual(kept.map(() => ['200', '200', '200']));
    await waitFor(async () => (await page.page.locator('#session-rows tr').count()) === 2, {
      timeoutMs: UI_TIMEOUT_MS,
      description: 'the revoked session gone from the list',
    });
    await page.page.locator(`#revocation-rows tr[data-id="${revoked.sid}"]`).waitFor();
    expect(
      await page.page.locator(`#revocation-rows tr[data-id="${revoked.sid}"]`).textContent(),
    ).toContain('laptop reported stolen');
    await page.screenshot('user', 'user');
  });

  it('signs a user out everywhere and shows every replica confirming it', async () => {
    const { username, sub, sessions } = await userWithSessions('console_all', 3);
    const page = await open();
    await page.useKey(ADMIN_API_KEY);
    // By id as well as by name.
    await page.page.getByLabel('Username or user id').fill(sub);
    await page.page.getByRole('button', { name: 'Show sessions' }).click();
    await page.page.getByText(`${username} (sub ${sub}): 3 live sessions`).waitFor();

    await page.page.getByRole('button', { name: 'Sign out everywhere' }).click();
    const box = page.page.locator('#user-confirmation .confirmation[data-state="confirmed"]');
    await box.waitFor();
    expect(await box.locator('.confirmation-summary').textContent()).toMatch(
      new RegExp(`^User ${sub}: confirmed by 3 of 3 replicas in `),
    );
    expect(await verdicts(sessions.map((s) => s.token))).toEqual(
      sessions.map(() => ['revoked', 'revoked', 'revoked']),
    );
    await page.page.getByText(`${username} (sub ${sub}): 0 live sessions`).waitFor();
  });

  it('revokes by id from the form, and the search filters by id, reason and actor', async () => {
    const tag = `search-${Date.now().toString(36)}`;
    for (const [jti, reason] of [
      [`${tag}-alpha`, 'phished on the helpdesk line'],
      [`${tag}-beta`, 'leaked in a CI log'],
    ] as const) {
      const answer = await (clients[1] as ApiClient).request('/admin/revocations', {
        method: 'POST',
        headers: admin,
        body: JSON.stringify({ jti, reason }),
      });
      expect(answer.status).toBe(201);
    }
    const page = await open();
    await page.useKey(ADMIN_API_KEY);
    await page.page.getByLabel('Id', { exact: true }).fill(`${tag}-gamma`);
    await page.page.locator('#revoke-reason').fill('found in a paste site');
    await page.page.getByRole('button', { name: 'Revoke', exact: true }).click();
    const box = page.page.locator('#revoke-confirmation .confirmation[data-state="confirmed"]');
    await box.waitFor();
    expect(await box.textContent()).toMatch(/confirmed by 3 of 3 replicas/);

    const rows = page.page.locator('#revocation-rows tr');
    const row = (suffix: string) =>
      page.page.locator(`#revocation-rows tr[data-id="${tag}-${suffix}"]`);
    await row('gamma').waitFor();
    await row('alpha').waitFor();
    expect(await row('alpha').textContent()).toContain('admin');

    const search = page.page.getByLabel('Search id, reason or actor');
    await search.fill('helpdesk');
    await waitFor(async () => (await rows.count()) === 1, {
      timeoutMs: UI_TIMEOUT_MS,
      description: 'one row matching the reason',
    });
    expect(await row('alpha').count()).toBe(1);
    await search.fill(`${tag}-`);
    await waitFor(async () => (await rows.count()) === 3, {
      timeoutMs: UI_TIMEOUT_MS,
      description: 'the three rows matching the ids',
    });
    await page.screenshot('revocations', 'revocations');
    await search.fill('ADMIN');
    expect(await row('beta').count()).toBe(1);
    await search.fill('no revocation says this');
    await waitFor(async () => (await rows.count()) === 0, {
      timeoutMs: UI_TIMEOUT_MS,
      description: 'no row matching',
    });
    await search.fill('');
    await page.screenshot('console');
  });

  it('pages through the revocations with the cursor', async () => {
    const tag = `page-${Date.now().toString(36)}`;
    // More than the console's page of 50, whatever the other tests left.
    await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        (clients[i % clients.length] as ApiClient)
          .request('/admin/revocations', {
            method: 'POST',
            headers: admin,
            body: JSON.stringify({ jti: `${tag}-${i}`, reason: 'paging' }),
          })
          .then((answer) => expect(answer.status).toBe(201)),
      ),
    );
    const page = await open(1);
    await page.useKey(ADMIN_API_KEY);
    const rows = page.page.locator('#revocation-rows tr');
    await waitFor(async () => (await rows.count()) === 50, {
      timeoutMs: UI_TIMEOUT_MS,
      description: 'the first page of 50',
    });
    await page.page.getByText('; more on the server').waitFor();
    await page.page.getByRole('button', { name: 'Load more' }).click();
    await waitFor(async () => (await rows.count()) > 50, {
      timeoutMs: UI_TIMEOUT_MS,
      description: 'the next page appended',
    });
    await page.page.getByLabel('Search id, reason or actor').fill(`${tag}-`);
    await waitFor(async () => (await rows.count()) === 60, {
      timeoutMs: UI_TIMEOUT_MS,
      description: 'all 60 of this test found across the pages',
    });
  });

  it('says plainly when the replica cannot be reached', async () => {
    const page = await open();
    // The browser's own network failure for every admin call.
    await page.page.route('**/admin/replicas', (route) => route.abort('connectionrefused'));
    await page.useKey(ADMIN_API_KEY);
    await page.page
      .getByText('Network error: GET /admin/replicas did not reach the replica.')
      .waitFor();
  });
});
