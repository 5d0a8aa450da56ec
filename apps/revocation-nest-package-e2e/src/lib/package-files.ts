import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { repoRoot } from '@rescind/testing';
import { runCommand } from './run-command';

/** The package build script under test (`npm run pack:revocation-nest`). */
export const BUILD_SCRIPT = 'libs/revocation-nest/package/build.mjs';

/**
 * Builds and packs `@rescind/revocation-nest` into `outDir` with the build script, as
 * `npm run pack:revocation-nest` does into `dist/packages/revocation-nest`, and resolves with the
 * path of the `.tgz` (next to `outDir`) the script prints.
 */
export async function packRevocationNest(outDir: string): Promise<string> {
  const root = repoRoot();
  const stdout = await runCommand(
    process.execPath,
    [path.join(root, BUILD_SCRIPT), '--out-dir', outDir],
    { cwd: root, timeoutMs: 120_000 },
  );
  const tarball = stdout.trim().split('\n').pop() ?? '';
  if (!tarball.endsWith('.tgz')) throw new Error(`the build printed no .tgz path: "${stdout}"`);
  await fs.access(tarball);
  return tarball;
}

/** Extracts `tarball` into `dir` (npm tarballs hold a `package/` folder) and resolves with it. */
export async function unpack(tarball: string, dir: string): Promise<string> {
  await fs.mkdir(dir, { recursive: true });
  await runCommand('tar', ['-xzf', tarball, '-C', dir], { cwd: dir, timeoutMs: 30_000 });
  return path.join(dir, 'package');
}

/** Every file under `dir`, as paths relative to it with `/` separators. */
export async function listFiles(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) =>
      path.relative(dir, path.join(entry.parentPath, entry.name)).split(path.sep).join('/'),
    )
    .sort();
}

/** Module specifiers of `require()`, `import … from`, `export … from`, `import()` and `import '…'`. */
export function importSpecifiers(source: string): string[] {
  const pattern =
    /(?:\brequire\s*\(\s*|\bfrom\s+|\bimport\s*\(\s*|^\s*import\s+)(['"])([^'"\n]+)\1/gm;
  return [...new Set([...source.matchAll(pattern)].map((match) => match[2] as string))];
}
