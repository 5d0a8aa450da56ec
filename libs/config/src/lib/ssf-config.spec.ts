import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadApiConfig } from './api-config';
import { apiConfigProblems } from '../testing/api-config-problems';

const STRONG = randomBytes(32).toString('base64url');
const ISSUER = 'https://ssf.example.com/tenants/main';
const PRODUCTION = { NODE_ENV: 'production', JWT_SECRET: randomBytes(32).toString('base64url') };

describe('SSF_* (a Shared Signals transmitter)', () => {
  it('is off when unset', () => {
    expect(loadApiConfig({}).ssf).toBeUndefined();
  });

  it('reads the issuer, the audience and the push token', () => {
    expect(
      loadApiConfig({ SSF_ISSUER: ISSUER, SSF_AUDIENCE: 'api', SSF_PUSH_TOKEN: 'token' }).ssf,
    ).toEqual({ issuer: ISSUER, audience: 'api', pushToken: 'token' });
    expect(loadApiConfig({ SSF_ISSUER: ISSUER, SSF_AUDIENCE: 'api' }).ssf?.pushToken).toBe(
      undefined,
    );
  });

  it('reads the push token from SSF_PUSH_TOKEN_FILE', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ssf-'));
    try {
      const file = join(dir, 'push-token');
      writeFileSync(file, `${STRONG}\n`);
      expect(
        loadApiConfig({ SSF_ISSUER: ISSUER, SSF_AUDIENCE: 'api', SSF_PUSH_TOKEN_FILE: file }).ssf
          ?.pushToken,
      ).toBe(STRONG);
      expect(
        apiConfigProblems({
          SSF_ISSUER: ISSUER,
          SSF_AUDIENCE: 'api',
          SSF_PUSH_TOKEN_FILE: join(dir, 'missing'),
        }),
      ).toEqual([expect.stringContaining('SSF_PUSH_TOKEN_FILE: cannot read SSF_PUSH_TOKEN')]);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  it('accepts an http issuer outside production (a loopback transmitter)', () => {
    expect(apiConfigProblems({ SSF_ISSUER: 'http://127.0.0.1:4000', SSF_AUDIENCE: 'a' })).toEqual(
      [],
    );
  });

  it.each<[string, Record<string, string>, string]>([
    ['no audience', { SSF_ISSUER: ISSUER }, 'SSF_AUDIENCE must be set with SSF_ISSUER'],
    ['an audience alone', { SSF_AUDIENCE: 'api' }, 'SSF_AUDIENCE is set without SSF_ISSUER'],
    ['a push token alone', { SSF_PUSH_TOKEN: 't' }, 'SSF_PUSH_TOKEN is set without SSF_ISSUER'],
    [
      'an issuer that is no URL',
      { SSF_ISSUER: 'ssf.example.com', SSF_AUDIENCE: 'api' },
      'SSF_ISSUER must be an http(s) URL',
    ],
    [
      'an issuer of another scheme',
      { SSF_ISSUER: 'ftp://ssf.example.com', SSF_AUDIENCE: 'api' },
      'SSF_ISSUER must be an http(s) URL',
    ],
    [
      'an issuer with a fragment',
      { SSF_ISSUER: `${ISSUER}#x`, SSF_AUDIENCE: 'api' },
      'SSF_ISSUER must have no query or fragment',
    ],
    [
      'a push token with a space',
      { SSF_ISSUER: ISSUER, SSF_AUDIENCE: 'api', SSF_PUSH_TOKEN: 'a b' },
      'SSF_PUSH_TOKEN must be 1-1024 printable characters',
    ],
  ])('refuses %s, naming the variable', (_what, env, problem) => {
    expect(apiConfigProblems(env)).toEqual([problem]);
  });

  it('refuses an http issuer when NODE_ENV=production', () => {
    expect(
      apiConfigProblems({ ...PRODUCTION, SSF_ISSUER: 'http://ssf.example.com', SSF_AUDIENCE: 'a' }),
    ).toEqual(['SSF_ISSUER must be an https URL when NODE_ENV=production']);
  });

  it.each([
    ['short', 'x1y2z3', 'must be at least 32 bytes'],
    ['a repetition', 'ab'.repeat(32), 'must be random'],
  ])('refuses a %s push token when NODE_ENV=production', (_what, token, problem) => {
    expect(
      apiConfigProblems({
        ...PRODUCTION,
        SSF_ISSUER: ISSUER,
        SSF_AUDIENCE: 'api',
        SSF_PUSH_TOKEN: token,
      }),
    ).toEqual([expect.stringContaining(`SSF_PUSH_TOKEN ${problem}`)]);
  });

  it('accepts an https issuer and a strong push token when NODE_ENV=production', () => {
    expect(
      apiConfigProblems({
        ...PRODUCTION,
        SSF_ISSUER: ISSUER,
        SSF_AUDIENCE: 'api',
        SSF_PUSH_TOKEN: STRONG,
      }),
    ).toEqual([]);
  });
});
