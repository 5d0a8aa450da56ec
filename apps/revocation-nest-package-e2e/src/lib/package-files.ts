import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { runCommand } from './run-command';

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
