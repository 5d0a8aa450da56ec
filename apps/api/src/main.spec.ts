import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEVELOPMENT_JWT_SECRET } from '@rescind/config';
import {
  ApiReplica,
  deleteKeysWithPrefix,
  TEST_REDIS_URL,
  uniqueKeyPrefix,
} from '@rescind/testing';

// Runs the built API (`npm run build` first), as a deployment would.
const strong = (): string => randomBytes(32).toString('base64url');

describe('the API process in production', () => {
  const keyPrefix = `api${uniqueKeyPrefix()}`;
  const dir = mkdtempSync(join(tmpdir(), 'rescind-api-main-'));
  const production = {
    NODE_ENV: 'production',
    REDIS_URL: TEST_REDIS_URL,
    KEY_PREFIX: keyPrefix,
    JWT_SECRET: strong(),
    JWT_SECRET_FILE: undefined,
    JWT_PREVIOUS_SECRETS: undefined,
    JWT_PREVIOUS_SECRETS_FILE: undefined,
    ADMIN_API_KEY: undefined,
    ADMIN_API_KEY_FILE: undefined,
    PASSWORD_HASH_COST: undefined,
    LOG_LEVEL: 'warn',
  };

  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await deleteKeysWithPrefix(keyPrefix);
  });

  /** Writes `contents` to a fresh file and returns its path. */
  function file(contents: string): string {
    const path = join(dir, randomBytes(6).toString('hex'));
    writeFileSync(path, contents);
    return path;
  }

  const missing = join(dir, 'no-such-secret');
  it.each<[string, Record<string, string | undefined>, RegExp, string | undefined]>([
    [
      'the old compose placeholder as JWT_SECRET',
      { JWT_SECRET: 'change-me-in-production-please-32bytes' },
      /JWT_SECRET must not be a value published in this repository/,
      'change-me-in-production-please-32bytes',
    ],
    ['no JWT_SECRET', { JWT_SECRET: undefined }, /JWT_SECRET must be set/, undefined],
    [
      'the development secret among JWT_PREVIOUS_SECRETS',
      { JWT_PREVIOUS_SECRETS: `${strong()},${DEVELOPMENT_JWT_SECRET}` },
      /JWT_PREVIOUS_SECRETS \(key 2 of 2\) must not be a value published/,
      DEVELOPMENT_JWT_SECRET,
    ],
    [
      'the development secret in JWT_PREVIOUS_SECRETS_FILE',
      { JWT_PREVIOUS_SECRETS_FILE: file(`${DEVELOPMENT_JWT_SECRET}\n`) },
      /JWT_PREVIOUS_SECRETS \(key 1 of 1\) must not be a value published/,
      DEVELOPMENT_JWT_SECRET,
    ],
    [
      'ADMIN_API_KEY=1',
      { ADMIN_API_KEY: '1' },
      /ADMIN_API_KEY must be at least 32 bytes/,
      undefined,
    ],
    [
      'a repetitive ADMIN_API_KEY',
      { ADMIN_API_KEY: 'k'.repeat(40) },
      /ADMIN_API_KEY must be random/,
      'k'.repeat(40),
    ],
    ['PASSWORD_HASH_COST=2', { PASSWORD_HASH_COST: '2' }, /PASSWORD_HASH_COST must be/, undefined],
    [
      'PASSWORD_HASH_COST under OWASP’s minimum',
      { PASSWORD_HASH_COST: '16384' },
      /PASSWORD_HASH_COST must be at least 19456/,
      undefined,
    ],
    [
      'both JWT_SECRET and JWT_SECRET_FILE',
      { JWT_SECRET_FILE: file(strong()) },
      /JWT_SECRET and JWT_SECRET_FILE are both set/,
      undefined,
    ],
    [
      'an unreadable ADMIN_API_KEY_FILE',
      { ADMIN_API_KEY_FILE: missing },
      new RegExp(`ADMIN_API_KEY_FILE: cannot read ADMIN_API_KEY from "${missing}" \\(ENOENT\\)`),
      undefined,
    ],
  ])(
    'refuses to start with %s: exit 2 naming the variable, never the value',
    async (_what, env, problem, secret) => {
      const api = await ApiReplica.start({ env: { ...production, ...env } });
      const exit = await api.exited;
      const output = api.process.tail();
      expect(exit.code).toBe(2);
      expect(output).toMatch(problem);
      if (secret !== undefined) expect(output).not.toContain(secret);
    },
    30_000,
  );

  it('starts with strong secrets read from files', async () => {
    const api = await ApiReplica.start({
      env: {
        ...production,
        JWT_SECRET: undefined,
        JWT_SECRET_FILE: file(`${strong()}\n`),
        JWT_PREVIOUS_SECRETS_FILE: file(`${strong()}\n${strong()}\n`),
        ADMIN_API_KEY_FILE: file(`${strong()}\n`),
      },
    });
    try {
      await api.ready(30_000);
    } finally {
      expect(await api.stop('SIGTERM')).toBe(0);
    }
  }, 40_000);
});
