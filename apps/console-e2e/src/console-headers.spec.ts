import { existsSync } from 'node:fs';
import { type ApiClient, TestCluster } from '@rescind/testing';
import { type Browser } from 'playwright-core';
import { chromiumPath, DEFAULT_CHROMIUM_PATH, launchChromium } from './support/chromium';
import { ConsolePage } from './support/console-page';

const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/**
 * How `GET /admin/console` and its assets are served, on Fastify (replica a) and on Express
 * (replica b), by replicas without `ADMIN_API_KEY`: the page still loads and says admin is off.
 */
describe('operator console assets', () => {
  const cluster = new TestCluster({
    suite: 'e2e',
    name: 'console-assets',
    replicas: [{}, { env: { HTTP_ADAPTER: 'express' } }],
  });
  let browser: Browser | undefined;

  beforeAll(async () => {
    const [launched] = await Promise.all([launchChromium(), cluster.start()]);
    browser = launched;
  });

  afterAll(async () => {
    await browser?.close();
    await cluster.stop();
  });

  const adapters = [
    ['fastify', 0],
    ['express', 1],
  ] as const;

  describe.each(adapters)('on %s', (_adapter, index) => {
    const client = (): ApiClient => cluster.clients[index] as ApiClient;

    it.each([
      [
        '/admin/console',
        'text/html; charset=utf-8',
        '<meta name="rescind-admin" content="disabled"',
      ],
      // With a trailing slash, as a browser's address bar may complete it.
      [
        '/admin/console/',
        'text/html; charset=utf-8',
        '<meta name="rescind-admin" content="disabled"',
      ],
      [
        '/admin/console/console.js',
        'text/javascript; charset=utf-8',
        "const KEY_STORAGE = 'rescind-admin-key';",
      ],
      ['/admin/console/console.css', 'text/css; charset=utf-8', '.confirmation'],
    ])('serves %s as %s with the CSP, no-cache and nosniff', async (path, type, excerpt) => {
      const answer = await client().request(path);
      expect(answer.status).toBe(200);
      expect(answer.headers.get('content-type')).toBe(type);
      expect(answer.headers.get('content-security-policy')).toBe(CSP);
      expect(answer.headers.get('cache-control')).toBe('no-cache');
      expect(answer.headers.get('x-content-type-options')).toBe('nosniff');
      expect(answer.headers.get('referrer-policy')).toBe('no-referrer');
      expect(answer.text).toContain(excerpt);
      expect(answer.text).not.toContain('{{admin-state}}');
    });

    it('serves nothing else under /admin/console/ (404 JSON)', async () => {
      for (const path of [
        '/admin/console/console.html',
        '/admin/console/app.js',
        '/admin/console/%2e%2e%2fmain.js',
      ]) {
        const answer = await client().request(path);
        expect(answer.status).toBe(404);
        expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
      }
    });

    it('loads in a browser and says admin is disabled, with no CSP violation', async () => {
      const page = await ConsolePage.open(browser as Browser, cluster.urls[index] as string);
      try {
        await page.page
          .getByText('Admin is disabled on this replica: ADMIN_API_KEY is not set')
          .waitFor();
        // Typing a key anyway: the 404 of the admin routes is told as admin being off.
        await page.useKey('any-key');
        await page.page.getByText('Admin is disabled on this replica (404)').first().waitFor();
        expect(page.cspViolations).toEqual([]);
      } finally {
        await page.close();
      }
    });
  });

  it('finds the browser by CHROMIUM_PATH, else Debian’s, else fails saying how to get one', () => {
    expect(chromiumPath({ CHROMIUM_PATH: process.execPath })).toBe(process.execPath);
    expect(() => chromiumPath({ CHROMIUM_PATH: '/nonexistent/chromium' })).toThrow(
      /^No Chromium executable at \/nonexistent\/chromium, CHROMIUM_PATH: install Debian's chromium package \(apt-get install -y chromium\) or set CHROMIUM_PATH/,
    );
    if (existsSync(DEFAULT_CHROMIUM_PATH)) {
      expect(chromiumPath({ CHROMIUM_PATH: '' })).toBe(DEFAULT_CHROMIUM_PATH);
    } else {
      expect(() => chromiumPath({})).toThrow(/the default \(CHROMIUM_PATH unset\)/);
    }
  });
});
