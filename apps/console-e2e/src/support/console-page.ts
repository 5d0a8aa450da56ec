import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { type Browser, type Locator, type Page } from 'playwright-core';

/** Long enough for three replicas and Chromium sharing two busy cores. */
export const UI_TIMEOUT_MS = 30_000;

/**
 * The operator console in a fresh browser context (its own session storage and cookies), with
 * the Content-Security-Policy violations it reports collected.
 */
export class ConsolePage {
  /** Console messages of CSP violations: there must be none. */
  readonly cspViolations: string[] = [];

  private constructor(readonly page: Page) {
    page.on('console', (message) => {
      if (message.text().includes('Content Security Policy')) {
        this.cspViolations.push(message.text());
      }
    });
    page.setDefaultTimeout(UI_TIMEOUT_MS);
  }

  /** Opens `<baseUrl>/admin/console` in a new context of `browser`. */
  static async open(browser: Browser, baseUrl: string): Promise<ConsolePage> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const console = new ConsolePage(await context.newPage());
    await console.page.goto(`${baseUrl}/admin/console`);
    return console;
  }

  async close(): Promise<void> {
    await this.page.context().close();
  }

  /** Types the admin key into the password field and submits it. */
  async useKey(key: string): Promise<void> {
    await this.page.getByLabel('ADMIN_API_KEY').fill(key);
    await this.page.getByRole('button', { name: 'Use key' }).click();
  }

  /** A panel (`fleet`, `revocations`, `user`, `key-panel`). */
  panel(id: string): Locator {
    return this.page.locator(`#${id}`);
  }

  /** What the page keeps where a key could leak: both storages and the cookies. */
  async storedSecrets(): Promise<{ session: string; local: string; cookies: string[] }> {
    // A string, evaluated in the page: this project compiles without the DOM's types.
    const [session, local] = await this.page.evaluate<[string, string]>(
      '[JSON.stringify({ ...sessionStorage }), JSON.stringify({ ...localStorage })]',
    );
    const cookies = (await this.page.context().cookies()).map((c) => `${c.name}=${c.value}`);
    return { session, local, cookies };
  }

  /**
   * With `CONSOLE_SCREENSHOTS=<dir>` (e.g. `docs/console`), a PNG of a panel, or of the whole page
   * for `page`; nothing otherwise.
   */
  async screenshot(name: string, id?: string): Promise<void> {
    const dir = process.env['CONSOLE_SCREENSHOTS'];
    if (dir === undefined || dir === '') return;
    mkdirSync(path.resolve(dir), { recursive: true });
    const file = path.resolve(dir, `${name}.png`);
    if (id === undefined) await this.page.screenshot({ path: file, fullPage: true });
    else await this.panel(id).screenshot({ path: file });
  }
}
