import * as fs from 'node:fs';
import { cp, mkdtemp, readdir, readFile, rm, stat, symlink } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { HarnessError } from './harness.error';
import { type AppName, repoRoot } from './repo-root';

/** Options for {@link BuildSnapshot.take}. */
export interface BuildSnapshotOptions {
  /** The build to copy. @default `<repo>/dist` */
  distDir?: string;
  /** Apps to copy (the libraries always are). @default ['api', 'worker'] */
  apps?: readonly AppName[];
  /** How long to wait for a complete build, e.g. while someone is building. @default 180000 */
  timeoutMs?: number;
}

/**
 * A file of the build is unfinished while it still requires a workspace alias (tsc-alias
 * rewrites them last). A pattern, so that this very file, built, does not match itself.
 */
const UNALIASED = /require\("@rescind\//;
/** Pause between two attempts at a copy. */
const RETRY_MS = 1_000;

/**
 * A private copy of the built apps and libraries, for runs that start and restart processes long
 * after they began: `npm run build` rewrites `dist/` in place (tsc first writes unaliased
 * requires of `@rescind/…` aliases, tsc-alias then rewrites them), so a process started from `dist/`
 * in the middle of someone's build fails to start. A copy counts only when no file changed while
 * it was taken and no file still requires an alias; `node_modules` is linked beside it.
 */
export class BuildSnapshot {
  private constructor(private readonly root: string) {}

  /** Waits for a complete build and copies it; removed by {@link dispose} or when this process exits. */
  static async take(options: BuildSnapshotOptions = {}): Promise<BuildSnapshot> {
    const dist = options.distDir ?? path.join(repoRoot(), 'dist');
    const parts = [
      ...(options.apps ?? ['api', 'worker']).map((app) => path.join('apps', app)),
      'libs',
    ];
    const root = await mkdtemp(path.join(os.tmpdir(), 'rescind-build-'));
    process.once('exit', () => fs.rmSync(root, { recursive: true, force: true }));
    await symlink(path.join(repoRoot(), 'node_modules'), path.join(root, 'node_modules'), 'dir');
    const copy = path.join(root, 'dist');
    const timeoutMs = options.timeoutMs ?? 180_000;
    const deadline = Date.now() + timeoutMs;
    // A loop of whole attempts rather than waitFor: an attempt cut off by a deadline would go on
    // copying into the directory being removed.
    for (;;) {
      try {
        await copyComplete(dist, copy, parts);
        return new BuildSnapshot(root);
      } catch (error) {
        if (Date.now() >= deadline) {
          await rm(root, { recursive: true, force: true });
          throw new HarnessError(
            'ERR_NOT_BUILT',
            `no complete build in ${dist} within ${timeoutMs} ms (run \`npm run build\`): ${(error as Error).message}`,
          );
        }
      }
      await sleep(RETRY_MS);
    }
  }

  /** Absolute path of an app's entry point in the copy, e.g. `…/dist/apps/api/src/main.js`. */
  entry(app: AppName): string {
    return path.join(this.root, 'dist', 'apps', app, 'src', 'main.js');
  }

  /** Removes the copy. */
  async dispose(): Promise<void> {
    await rm(this.root, { recursive: true, force: true });
  }
}

/** Copies the parts of the build; throws when a build wrote meanwhile or left it unfinished. */
async function copyComplete(dist: string, copy: string, parts: readonly string[]): Promise<void> {
  const before = await fingerprint(dist, parts);
  await rm(copy, { recursive: true, force: true });
  for (const part of parts) {
    await cp(path.join(dist, part), path.join(copy, part), { recursive: true });
  }
  if ((await fingerprint(dist, parts)) !== before) {
    throw new Error('the build changed while it was copied');
  }
  await assertComplete(copy, parts);
}

async function filesBelow(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(entry.parentPath, entry.name))
    .sort();
}

// Names, sizes and modification times of every file: equal before and after a copy means no
// build wrote in between.
async function fingerprint(dist: string, parts: readonly string[]): Promise<string> {
  const lines: string[] = [];
  for (const part of parts) {
    for (const file of await filesBelow(path.join(dist, part))) {
      const info = await stat(file);
      lines.push(`${file} ${info.size} ${info.mtimeMs}`);
    }
  }
  return lines.join('\n');
}

async function assertComplete(copy: string, parts: readonly string[]): Promise<void> {
  for (const part of parts) {
    const files = await filesBelow(path.join(copy, part));
    if (part.startsWith('apps') && !files.includes(path.join(copy, part, 'src', 'main.js'))) {
      throw new Error(`${part}/src/main.js is missing`);
    }
    for (const file of files) {
      if (file.endsWith('.js') && UNALIASED.test(await readFile(file, 'utf8'))) {
        throw new Error(
          `${path.relative(copy, file)} still requires a workspace alias (a build is under way or failed)`,
        );
      }
    }
  }
}
