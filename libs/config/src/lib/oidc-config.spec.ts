import { randomBytes } from 'node:crypto';
import { loadApiConfig } from './api-config';
import { apiConfigProblems } from '../testing/api-config-problems';

const STRONG = randomBytes(32).toString('base64url');
const ISSUER = 'https://id.example.com/realms/main';

describe('OIDC_* (an external issuer)', () => {
  it('is off when unset', () => {
    expect(loadApiConfig({}).oidc).toBeUndefined();
  });

  it('reads the issuer, the audience and the client id', () => {
    expect(
      loadApiConfig({ OIDC_ISSUER: ISSUER, OIDC_AUDIENCE: 'api', OIDC_CLIENT_ID: 'rescind' }).oidc,
    ).toEqual({
      issuer: ISSUER,
      audience: 'api',
      clientId: 'rescind',
      tokenIdClaim: 'jti',
      logoutRevokes: 'session',
    });
  });

  it('reads the token id claim and what a logout revokes', () => {
    expect(
      loadApiConfig({
        OIDC_ISSUER: ISSUER,
        OIDC_AUDIENCE: 'api',
        OIDC_TOKEN_ID_CLAIM: 'uti',
        OIDC_LOGOUT_REVOKES: 'user',
      }).oidc,
    ).toMatchObject({ tokenIdClaim: 'uti', logoutRevokes: 'user' });
  });

  it('accepts an http issuer outside production (a loopback provider)', () => {
    expect(
      apiConfigProblems({ OIDC_ISSUER: 'http://127.0.0.1:4000', OIDC_AUDIENCE: 'api' }),
    ).toEqual([]);
  });

  it.each<[string, Record<string, string>, string]>([
    ['no audience', { OIDC_ISSUER: ISSUER }, 'OIDC_AUDIENCE must be set with OIDC_ISSUER'],
    ['an audience alone', { OIDC_AUDIENCE: 'api' }, 'OIDC_AUDIENCE is set without OIDC_ISSUER'],
    ['a client id alone', { OIDC_CLIENT_ID: 'c' }, 'OIDC_CLIENT_ID is set without OIDC_ISSUER'],
    [
      'an issuer that is no URL',
      { OIDC_ISSUER: 'id.example.com', OIDC_AUDIENCE: 'api' },
      'OIDC_ISSUER must be an http(s) URL',
    ],
    [
      'an issuer of another scheme',
      { OIDC_ISSUER: 'ftp://id.example.com', OIDC_AUDIENCE: 'api' },
      'OIDC_ISSUER must be an http(s) URL',
    ],
    [
      'an issuer with a query',
      { OIDC_ISSUER: `${ISSUER}?x=1`, OIDC_AUDIENCE: 'api' },
      'OIDC_ISSUER must have no query or fragment',
    ],
    [
      'a client id with a space',
      { OIDC_ISSUER: ISSUER, OIDC_AUDIENCE: 'api', OIDC_CLIENT_ID: 'a b' },
      'OIDC_CLIENT_ID must be 1-256 printable characters',
    ],
    [
      'a token id claim alone',
      { OIDC_TOKEN_ID_CLAIM: 'uti' },
      'OIDC_TOKEN_ID_CLAIM is set without OIDC_ISSUER',
    ],
    [
      'a token id claim that is no name',
      { OIDC_ISSUER: ISSUER, OIDC_AUDIENCE: 'api', OIDC_TOKEN_ID_CLAIM: 'a b' },
      'OIDC_TOKEN_ID_CLAIM must be a claim name (1-64 of [A-Za-z0-9_.:-])',
    ],
    [
      'a logout scope alone',
      { OIDC_LOGOUT_REVOKES: 'user' },
      'OIDC_LOGOUT_REVOKES is set without OIDC_ISSUER',
    ],
  ])('refuses %s, naming the variable', (_what, env, problem) => {
    expect(apiConfigProblems(env)).toEqual([problem]);
  });

  it('refuses an http issuer when NODE_ENV=production', () => {
    expect(
      apiConfigProblems({
        NODE_ENV: 'production',
        JWT_SECRET: STRONG,
        OIDC_ISSUER: 'http://id.example.com',
        OIDC_AUDIENCE: 'api',
      }),
    ).toEqual(['OIDC_ISSUER must be an https URL when NODE_ENV=production']);
  });

  it('accepts an https issuer when NODE_ENV=production', () => {
    expect(
      apiConfigProblems({
        NODE_ENV: 'production',
        JWT_SECRET: STRONG,
        OIDC_ISSUER: ISSUER,
        OIDC_AUDIENCE: 'api',
      }),
    ).toEqual([]);
  });
});
