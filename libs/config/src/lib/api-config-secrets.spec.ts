import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLUSTER_JWT_SECRET } from '@rescind/testing';
import { loadApiConfig, PASSWORD_HASH_MIN_PRODUCTION_COST } from './api-config';
import {
  DEVELOPMENT_JWT_SECRET,
  estimatedEntropyBits,
  KNOWN_SECRETS,
  MIN_SECRET_ENTROPY_BITS,
  secretWeakness,
} from './secret-strength';
import { apiConfigProblems } from '../testing/api-config-problems';

const strong = (): string => randomBytes(32).toString('base64url');
const PRODUCTION = { NODE_ENV: 'production', JWT_SECRET: strong() };

describe('the API secrets', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'rescind-secrets-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Writes `contents` to a fresh file and returns its path. */
  function file(contents: string): string {
    const path = join(dir, randomBytes(6).toString('hex'));
    writeFileSync(path, contents);
    return path;
  }

  describe('when NODE_ENV=production', () => {
    it.each([
      ['the development secret', DEVELOPMENT_JWT_SECRET],
      ['the old compose placeholder', 'change-me-in-production-please-32bytes'],
      ['the test suites’ key', CLUSTER_JWT_SECRET],
    ])('refuses %s as JWT_SECRET, naming the variable only', (_what, secret) => {
      const problems = apiConfigProblems({ NODE_ENV: 'production', JWT_SECRET: secret });
      expect(problems).toEqual([
        'JWT_SECRET must not be a value published in this repository when NODE_ENV=production',
      ]);
      expect(problems.join()).not.toContain(secret);
    });

    it.each([
      ['one repeated character', 'x'.repeat(32)],
      ['a repeated pattern', '0123456789abcdef'.repeat(2)],
      ['two characters', 'ab'.repeat(20)],
    ])('refuses %s as JWT_SECRET', (_what, secret) => {
      expect(apiConfigProblems({ NODE_ENV: 'production', JWT_SECRET: secret })).toEqual([
        expect.stringMatching(/^JWT_SECRET must be random .* when NODE_ENV=production$/),
      ]);
    });

    it('refuses a weak or published key among JWT_PREVIOUS_SECRETS, saying which', () => {
      const problems = apiConfigProblems({
        ...PRODUCTION,
        JWT_PREVIOUS_SECRETS: `${strong()},${DEVELOPMENT_JWT_SECRET},short`,
      });
      expect(problems).toEqual([
        'JWT_PREVIOUS_SECRETS (key 2 of 3) must not be a value published in this repository when NODE_ENV=production',
        'JWT_PREVIOUS_SECRETS (key 3 of 3) must be at least 32 bytes when NODE_ENV=production',
      ]);
    });

    it('refuses a weak ADMIN_API_KEY', () => {
      expect(apiConfigProblems({ ...PRODUCTION, ADMIN_API_KEY: '1' })).toEqual([
        'ADMIN_API_KEY must be at least 32 bytes when NODE_ENV=production',
      ]);
      expect(
        apiConfigProblems({ ...PRODUCTION, ADMIN_API_KEY: 'e2e-logging-admin-key-0123456789' }),
      ).toEqual([
        'ADMIN_API_KEY must not be a value published in this repository when NODE_ENV=production',
      ]);
    });

    it('refuses a password hash cost under OWASP’s minimum, and accepts it', () => {
      expect(apiConfigProblems({ ...PRODUCTION, PASSWORD_HASH_COST: '1024' })).toEqual([
        'PASSWORD_HASH_COST must be at least 19456 (KiB of Argon2id memory) when NODE_ENV=production, got 1024',
      ]);
      expect(apiConfigProblems({ ...PRODUCTION, PASSWORD_HASH_COST: '2' })).toEqual([
        expect.stringMatching(/^PASSWORD_HASH_COST /),
      ]);
      expect(apiConfigProblems({ ...PRODUCTION, PASSWORD_HASH_COST: '19455' })).toHaveLength(1);
      expect(loadApiConfig({ ...PRODUCTION, PASSWORD_HASH_COST: '19456' }).passwordHashCost).toBe(
        19_456,
      );
    });

    it('accepts strong keys everywhere', () => {
      const config = loadApiConfig({
        ...PRODUCTION,
        JWT_PREVIOUS_SECRETS: `${strong()}, ${strong()}`,
        ADMIN_API_KEY: randomBytes(32).toString('hex'),
      });
      expect(config.jwtPreviousSecrets).toHaveLength(2);
      expect(config.passwordHashCost).toBe(PASSWORD_HASH_MIN_PRODUCTION_COST);
    });

    it('reports every weak value at once', () => {
      const problems = apiConfigProblems({
        NODE_ENV: 'production',
        JWT_SECRET: 'short',
        JWT_PREVIOUS_SECRETS: DEVELOPMENT_JWT_SECRET,
        ADMIN_API_KEY: '1',
        PASSWORD_HASH_COST: '2',
      });
      expect(problems.map((p) => p.split(' ')[0])).toEqual([
        'JWT_SECRET',
        'JWT_PREVIOUS_SECRETS',
        'ADMIN_API_KEY',
        'PASSWORD_HASH_COST',
      ]);
    });
  });

  describe('outside production', () => {
    it('keeps the development secret as the default and takes any key and a cheap hash', () => {
      const config = loadApiConfig({
        JWT_PREVIOUS_SECRETS: 'old',
        ADMIN_API_KEY: 'k',
        PASSWORD_HASH_COST: '1024',
      });
      expect(config).toMatchObject({
        jwtSecret: DEVELOPMENT_JWT_SECRET,
        jwtPreviousSecrets: ['old'],
        adminApiKey: 'k',
        passwordHashCost: 1024,
      });
    });

    it('refuses a hash cost under Argon2’s floor of 8 KiB', () => {
      expect(apiConfigProblems({ PASSWORD_HASH_COST: '7' })).toEqual([
        'PASSWORD_HASH_COST must be an integer from 8 to 1048576, got "7"',
      ]);
    });
  });

  describe('from files (*_FILE)', () => {
    it('reads each secret from its file, trimming one trailing newline', () => {
      const jwtSecret = strong();
      const [old1, old2] = [strong(), strong()];
      const adminKey = strong();
      const config = loadApiConfig({
        NODE_ENV: 'production',
        JWT_SECRET_FILE: file(`${jwtSecret}\n`),
        JWT_PREVIOUS_SECRETS_FILE: file(`${old1}\n${old2}\r\n`),
        ADMIN_API_KEY_FILE: file(adminKey),
      });
      expect(config).toMatchObject({
        jwtSecret,
        jwtPreviousSecrets: [old1, old2],
        adminApiKey: adminKey,
      });
    });

    it('keeps all but the one trailing newline', () => {
      expect(loadApiConfig({ JWT_SECRET_FILE: file(' spaced \n\n') }).jwtSecret).toBe(' spaced \n');
    });

    it('applies the production checks to a secret from a file', () => {
      expect(
        apiConfigProblems({
          NODE_ENV: 'production',
          JWT_SECRET_FILE: file(`${DEVELOPMENT_JWT_SECRET}\n`),
        }),
      ).toEqual([
        'JWT_SECRET must not be a value published in this repository when NODE_ENV=production',
      ]);
    });

    it.each(['JWT_SECRET', 'JWT_PREVIOUS_SECRETS', 'ADMIN_API_KEY'])(
      'refuses both %s and its _FILE, naming both',
      (name) => {
        const secret = strong();
        const problems = apiConfigProblems({ [name]: secret, [`${name}_FILE`]: file(strong()) });
        expect(problems).toEqual([`${name} and ${name}_FILE are both set; set only one`]);
      },
    );

    it('names the variable and the path of an unreadable file, never its contents', () => {
      const secret = strong();
      const path = file(secret);
      const missing = join(dir, 'missing');
      const problems = apiConfigProblems({ NODE_ENV: 'production', JWT_SECRET_FILE: missing });
      expect(problems).toEqual([
        `JWT_SECRET_FILE: cannot read JWT_SECRET from "${missing}" (ENOENT)`,
      ]);
      // A directory cannot be read as a file either.
      expect(apiConfigProblems({ ADMIN_API_KEY_FILE: dir })).toEqual([
        `ADMIN_API_KEY_FILE: cannot read ADMIN_API_KEY from "${dir}" (EISDIR)`,
      ]);
      if (process.getuid?.() !== 0) {
        chmodSync(path, 0o000);
        const denied = apiConfigProblems({ JWT_PREVIOUS_SECRETS_FILE: path });
        expect(denied).toEqual([
          `JWT_PREVIOUS_SECRETS_FILE: cannot read JWT_PREVIOUS_SECRETS from "${path}" (EACCES)`,
        ]);
        expect(denied.join()).not.toContain(secret);
      }
    });

    it('refuses an empty file', () => {
      const path = file('\n');
      expect(apiConfigProblems({ JWT_SECRET_FILE: path })).toEqual([
        `JWT_SECRET_FILE: "${path}" is empty`,
      ]);
    });
  });

  describe('secretWeakness', () => {
    it('never refuses 24 random bytes in base64url (32 characters), the shortest random key', () => {
      for (let i = 0; i < 2000; i++) {
        expect(secretWeakness(randomBytes(24).toString('base64url'))).toBeUndefined();
      }
    });

    it('scores a random key far above the bar and a varied phrase above it', () => {
      expect(estimatedEntropyBits(strong())).toBeGreaterThan(2 * MIN_SECRET_ENTROPY_BITS);
      expect(estimatedEntropyBits('x'.repeat(64))).toBe(0);
    });
  });

  describe('the placeholders this repository ships', () => {
    const root = join(__dirname, '../../../..');

    it('lists the test suites’ signing key among the known values', () => {
      expect(KNOWN_SECRETS.has(CLUSTER_JWT_SECRET)).toBe(true);
    });

    it('gives docker-compose.yml no default signing key: it refuses to start without one', () => {
      const compose = readFileSync(join(root, 'docker-compose.yml'), 'utf8');
      expect(compose).not.toMatch(/JWT_SECRET(_FILE)?:\s*\$\{JWT_SECRET(_FILE)?:?-/);
      expect(compose).toMatch(/JWT_SECRET: \$\{JWT_SECRET:\?/);
    });
  });
});
