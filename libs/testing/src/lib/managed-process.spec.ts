import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type HarnessError } from './harness.error';
import { ManagedProcess, spawnNode } from './managed-process';

jest.setTimeout(30_000);

let scripts: string;

beforeAll(() => {
  scripts = fs.mkdtempSync(path.join(os.tmpdir(), 'rescind-managed-process-'));
});

afterAll(() => fs.rmSync(scripts, { recursive: true, force: true }));

function script(name: string, source: string): string {
  const file = path.join(scripts, `${name}.js`);
  fs.writeFileSync(file, source);
  return file;
}

describe('ManagedProcess', () => {
  it('passes env through and resolves a line wait with the match', async () => {
    const child = await spawnNode(
      script(
        'greeter',
        `console.log('hello ' + process.env.GREETING); setInterval(() => {}, 1000);`,
      ),
      { env: { GREETING: 'world' } },
    );
    try {
      const match = await child.waitForLine(/hello (\w+)/, 5_000);
      expect(match[1]).toBe('world');
      expect(child.pid).toEqual(expect.any(Number));
    } finally {
      await child.kill();
    }
  });

  it('appends stdout to stdoutFile instead of capturing it, and still captures stderr', async () => {
    const file = path.join(scripts, 'stdout.log');
    fs.writeFileSync(file, 'earlier\n');
    const child = await spawnNode(
      script('split', `console.log('to the file'); console.error('to the tail');`),
      { stdoutFile: file },
    );
    expect((await child.exited).code).toBe(0);
    expect(fs.readFileSync(file, 'utf8')).toBe('earlier\nto the file\n');
    expect(child.tail()).toContain('to the tail');
    expect(child.tail()).not.toContain('to the file');
  });

  it('stops with SIGTERM and resolves with the exit code', async () => {
    const child = await spawnNode(
      script(
        'graceful',
        `process.on('SIGTERM', () => process.exit(7)); console.log('up'); setInterval(() => {}, 1000);`,
      ),
    );
    await child.waitForLine(/up/);

    expect(await child.stop()).toBe(7);
    expect(child.running).toBe(false);
  });

  it('kills a process that ignores SIGTERM once the timeout passes', async () => {
    const child = await spawnNode(
      script(
        'stubborn',
        `process.on('SIGTERM', () => {}); console.log('up'); setInterval(() => {}, 1000);`,
      ),
    );
    await child.waitForLine(/up/);

    expect(await child.stop('SIGTERM', 100)).toBeNull();
    expect(child.exitInfo).toEqual({ code: null, signal: 'SIGKILL' });
  });

  describe('when the process exits before the awaited line', () => {
    it('rejects with ERR_PROCESS_EXITED and the output tail', async () => {
      const child = await spawnNode(
        script('crasher', `console.error('boom: bad config'); process.exit(3);`),
      );

      const error = await child.waitForLine(/ready/).catch((e: unknown) => e);

      expect((error as HarnessError).code).toBe('ERR_PROCESS_EXITED');
      expect((error as Error).message).toMatch(/exited \(code 3\)/);
      expect((error as Error).message).toMatch(/boom: bad config/);
    });
  });

  it('rejects with ERR_SPAWN when the command cannot start', async () => {
    await expect(ManagedProcess.spawn('/nonexistent/binary')).rejects.toMatchObject({
      code: 'ERR_SPAWN',
    });
  });
});
