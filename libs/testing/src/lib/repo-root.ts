import * as fs from 'node:fs';
import * as path from 'node:path';
import { HarnessError } from './harness.error';

/** Apps whose built entry point the harness can start. */
export type AppName = 'api' | 'worker' | 'stack';

/** The monorepo root: the nearest folder above this file holding `nx.json` (works from src and dist). */
export function repoRoot(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'nx.json'))) return dir;
    if (path.dirname(dir) === dir) {
      throw new HarnessError('ERR_NO_REPO_ROOT', `no nx.json found above ${__dirname}`);
    }
  }
}

/** Absolute path of an app's built entry point, e.g. `dist/apps/api/src/main.js`; throws when not built. */
export function appEntry(app: AppName): string {
  const entry = path.join(repoRoot(), 'dist', 'apps', app, 'src', 'main.js');
  if (!fs.existsSync(entry)) {
    throw new HarnessError('ERR_NOT_BUILT', `${entry} not found; run \`npm run build\` first`);
  }
  return entry;
}
