import { readFileSync } from 'node:fs';
import * as path from 'node:path';

/** One static file of the operator console, read once at start-up. */
export interface ConsoleAsset {
  readonly contentType: string;
  /** Text: both adapters send a string as it is (Express would send a Buffer as JSON). */
  readonly body: string;
}

/** Where the assets are: next to this module in the source tree, and copied there in `dist/`. */
export const CONSOLE_ASSETS_DIR = path.join(__dirname, 'assets');

/** The files served under `/admin/console/`, by name; nothing else under that path is served. */
export const CONSOLE_ASSET_TYPES: Readonly<Record<string, string>> = {
  'console.js': 'text/javascript; charset=utf-8',
  'console.css': 'text/css; charset=utf-8',
};

/** Placeholder in `console.html` replaced by whether the admin routes exist on this replica. */
const ADMIN_STATE = '{{admin-state}}';

/**
 * The console's page with the admin state filled in (`enabled` or `disabled`: the page says so
 * before any key is typed), and its script and style sheet.
 */
export function loadConsoleAssets(adminEnabled: boolean): {
  page: ConsoleAsset;
  assets: ReadonlyMap<string, ConsoleAsset>;
} {
  const html = readFileSync(path.join(CONSOLE_ASSETS_DIR, 'console.html'), 'utf8');
  const page = {
    contentType: 'text/html; charset=utf-8',
    body: html.replace(ADMIN_STATE, adminEnabled ? 'enabled' : 'disabled'),
  };
  const assets = new Map<string, ConsoleAsset>();
  for (const [name, contentType] of Object.entries(CONSOLE_ASSET_TYPES)) {
    assets.set(name, {
      contentType,
      body: readFileSync(path.join(CONSOLE_ASSETS_DIR, name), 'utf8'),
    });
  }
  return { page, assets };
}
