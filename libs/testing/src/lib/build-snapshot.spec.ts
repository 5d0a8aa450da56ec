import * as fs from 'node:fs';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { BuildSnapshot } from './build-snapshot';

describe('BuildSnapshot', () => {
  let dist: string;

  beforeEach(async () => {
    dist = await mkdtemp(path.join(os.tmpdir(), 'rescind-snapshot-spec-'));
    for (const app of ['api', 'worker']) {
      await mkdir(path.join(dist, 'apps', app, 'src'), { recursive: true });
      await writeFile(
        path.join(dist, 'apps', app, 'src', 'main.js'),
        `require("../../../libs/x");\n`,
      );
    }
    await mkdir(path.join(dist, 'libs'), { recursive: true });
    await writeFile(path.join(dist, 'libs', 'x.js'), 'module.exports = 1;\n');
  });

  afterEach(async () => {
    await rm(dist, { recursive: true, force: true });
  });

  it('copies a complete build, entry points and libraries, with node_modules beside it', async () => {
    const snapshot = await BuildSnapshot.take({ distDir: dist, timeoutMs: 10_000 });
    try {
      const entry = snapshot.entry('api');
      expect(entry).not.toContain(dist);
      expect(fs.readFileSync(entry, 'utf8')).toContain('libs/x');
      expect(fs.existsSync(path.join(path.dirname(entry), '../../../libs/x.js'))).toBe(true);
      expect(fs.existsSync(path.join(path.dirname(entry), '../../../../node_modules'))).toBe(true);
    } finally {
      await snapshot.dispose();
    }
    expect(fs.existsSync(snapshot.entry('api'))).toBe(false);
  });

  it('waits for a build that still requires workspace aliases, and gives up naming the file', async () => {
    await writeFile(
      path.join(dist, 'libs', 'x.js'),
      ['require("', '@rescind/revocation-core");\n'].join(''),
    );
    await expect(BuildSnapshot.take({ distDir: dist, timeoutMs: 1_500 })).rejects.toMatchObject({
      code: 'ERR_NOT_BUILT',
      message: expect.stringContaining('libs/x.js still requires a workspace alias'),
    });
  });

  it('gives up when an app was not built', async () => {
    await rm(path.join(dist, 'apps', 'worker'), { recursive: true });
    await expect(BuildSnapshot.take({ distDir: dist, timeoutMs: 1_500 })).rejects.toMatchObject({
      code: 'ERR_NOT_BUILT',
    });
  });
});
