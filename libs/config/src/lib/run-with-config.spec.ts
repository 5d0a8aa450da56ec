import { ConfigError } from './config.error';
import { runWithConfig } from './run-with-config';

/** What `process.exit` was asked for, thrown so that nothing runs after it (as in a real exit). */
class Exited extends Error {
  constructor(readonly code: number | string | null | undefined) {
    super(`exit ${String(code)}`);
  }
}

describe('runWithConfig', () => {
  let stderr: string[];
  let exit: jest.SpyInstance;

  beforeEach(() => {
    stderr = [];
    jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stderr.push(String(chunk));
      return true;
    });
    exit = jest.spyOn(process, 'exit').mockImplementation((code) => {
      throw new Exited(code);
    });
  });

  afterEach(() => jest.restoreAllMocks());

  it('starts main with the configuration read from the environment', async () => {
    const main = jest.fn(async (config: { env: NodeJS.ProcessEnv }) => {
      expect(config.env).toBe(process.env);
    });
    runWithConfig('rescind spec', (env) => ({ env }), main);
    await Promise.resolve();
    expect(main).toHaveBeenCalledTimes(1);
    expect(exit).not.toHaveBeenCalled();
    expect(stderr).toEqual([]);
  });

  it('exits 2 with the problems of an invalid configuration, never starting', () => {
    const main = jest.fn(async () => undefined);
    const load = (): never => {
      throw new ConfigError(['PORT must be a port number']);
    };
    expect(() => runWithConfig('rescind spec', load, main)).toThrow(new Exited(2));
    expect(main).not.toHaveBeenCalled();
    expect(stderr).toEqual(['rescind spec: Invalid configuration: PORT must be a port number\n']);
  });

  it('lets an error that is not about the configuration through', () => {
    const load = (): never => {
      throw new TypeError('a bug');
    };
    expect(() => runWithConfig('rescind spec', load, async () => undefined)).toThrow(TypeError);
    expect(exit).not.toHaveBeenCalled();
  });

  it('exits 1 with the stack when main fails to start', async () => {
    exit.mockImplementation(() => undefined as never);
    const failure = new Error('no Redis');
    runWithConfig(
      'rescind spec',
      () => ({}),
      () => Promise.reject(failure),
    );
    await new Promise((resolve) => setImmediate(resolve));
    expect(exit).toHaveBeenCalledWith(1);
    expect(stderr).toEqual([`rescind spec: failed to start: ${failure.stack}\n`]);
  });
});
