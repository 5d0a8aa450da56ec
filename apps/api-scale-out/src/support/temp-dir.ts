import * as fs from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';

const owned = new Set<string>();
let exitHookInstalled = false;

/**
 * A fresh temp dir, removed by {@link removeTempDir} or, after a crashed run, when this process
 * exits (the harness kills the child processes themselves).
 */
export async function makeTempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const leftover of owned) fs.rmSync(leftover, { recursive: true, force: true });
    });
  }
  owned.add(dir);
  return dir;
}

/** Removes a dir made by {@link makeTempDir}. */
export async function removeTempDir(dir: string): Promise<void> {
  owned.delete(dir);
  await rm(dir, { recursive: true, force: true });
}
