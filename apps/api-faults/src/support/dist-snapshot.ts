import * as fs from 'node:fs';
import { cp, mkdtemp } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { repoRoot, waitFor } from '@rescind/testing';

/** Where the processes of a scenario are started from. */
export interface AppEntries {
  readonly api: string;
  readonly worker: string;
  /** `NODE_PATH` for the children: the repository's `node_modules`, since the copy lives elsewhere. */
  readonly nodePath: string;
}

/** How long to wait for a complete build in `dist/` (someone may be rebuilding right now). */
const BUILD_WAIT_MS = 120_000;

let snapshot: Promise<AppEntries> | undefined;

/**
 * A private copy of the built API, worker and libraries, taken once per test file. Other work
 * rebuilds `dist/` in place (a build first writes unaliased `require("@rescind/…")` lines, then
 * rewrites them), so a replica started in the middle of someone's build would fail to start;
 * starting every process of a scenario from one complete copy avoids that race.
 */
export function distSnapshot(): Promise<AppEntries> {
  snapshot ??= takeSnapshot();
  return snapshot;
}

async function takeSnapshot(): Promise<AppEntries> {
  const root = repoRoot();
  const dist = path.join(root, 'dist');
  const entry = (base: string, app: string): string =>
    path.join(base, 'apps', app, 'src', 'main.js');
  const complete = (base: string): boolean =>
    ['api', 'worker'].every((app) => {
      try {
        return !fs.readFileSync(entry(base, app), 'utf8').includes('require("@rescind/');
      } catch {
        return false;
      }
    });
  for (let attempt = 1; ; attempt++) {
    await waitFor(() => complete(dist), {
      timeoutMs: BUILD_WAIT_MS,
      intervalMs: 500,
      description: 'a complete build in dist/ (run `npm run build`)',
    });
    const dir = await mkdtemp(path.join(os.tmpdir(), 'rescind-faults-dist-'));
    process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
    const copy = path.join(dir, 'dist');
    for (const part of [path.join('apps', 'api'), path.join('apps', 'worker'), 'libs']) {
      await cp(path.join(dist, part), path.join(copy, part), { recursive: true });
    }
    if (complete(copy) || attempt >= 3) {
      return {
        api: entry(copy, 'api'),
        worker: entry(copy, 'worker'),
        nodePath: path.join(root, 'node_modules'),
      };
    }
  }
}
