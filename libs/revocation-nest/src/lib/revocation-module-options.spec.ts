import { createSecretKey, generateKeyPairSync } from 'node:crypto';
import { RevocationModule } from './revocation.module';
import {
  type RevocationModuleOptions,
  resolveRevocationOptions,
} from './revocation-module-options';

const REQUIRED: RevocationModuleOptions = {
  redisUrl: 'redis://127.0.0.1:6379',
  jwtSecret: 'x'.repeat(32),
};

describe('resolveRevocationOptions', () => {
  it('applies the documented defaults', () => {
    const resolved = resolveRevocationOptions(REQUIRED, 'host-42');
    expect(resolved).toMatchObject({
      redisUrl: 'redis://127.0.0.1:6379',
      keyPrefix: 'rvk',
      jwtAlgorithm: 'HS256',
      accessTokenTtlSeconds: 900,
      cacheMaxEntries: 1_000_000,
      verifiedTokenCacheMax: 10_000,
      failMode: 'closed',
      maxStalenessMs: 5000,
      strategy: 'local',
      instanceId: 'host-42',
      syncIntervalMs: 1000,
    });
  });

  it('keeps the values it is given', () => {
    const options: RevocationModuleOptions = {
      ...REQUIRED,
      keyPrefix: 'test',
      jwtAlgorithm: 'HS512',
      accessTokenTtlSeconds: 60,
      cacheMaxEntries: 10,
      verifiedTokenCacheMax: 0,
      failMode: 'open',
      maxStalenessMs: 2000,
      strategy: 'redis',
      instanceId: 'replica-1',
      syncIntervalMs: 250,
    };
    const { jwtSecret: _secret, ...rest } = options;
    expect(resolveRevocationOptions(options, 'unused')).toMatchObject(rest);
  });

  it.each([
    [2000, 500],
    [100, 50],
    [60_000, 1000],
  ])('derives the sync interval from maxStalenessMs %i: %i ms', (maxStalenessMs, expected) => {
    expect(resolveRevocationOptions({ ...REQUIRED, maxStalenessMs }, 'h').syncIntervalMs).toBe(
      expected,
    );
  });

  describe('the signing key', () => {
    it('turns a string or a Buffer into a secret KeyObject once', () => {
      for (const jwtSecret of ['x'.repeat(32), Buffer.alloc(32, 1)]) {
        const { jwtKey } = resolveRevocationOptions({ ...REQUIRED, jwtSecret }, 'h');
        expect(jwtKey.type).toBe('secret');
        expect(jwtKey.symmetricKeySize).toBe(32);
      }
    });

    it('takes a secret KeyObject as it is', () => {
      const key = createSecretKey(Buffer.alloc(32, 7));
      expect(resolveRevocationOptions({ ...REQUIRED, jwtSecret: key }, 'h').jwtKey).toBe(key);
    });

    it.each([
      ['an empty string', ''],
      ['an empty Buffer', Buffer.alloc(0)],
      ['an asymmetric key', generateKeyPairSync('ed25519').privateKey],
    ])('rejects %s with a RangeError naming jwtSecret', (_case, jwtSecret) => {
      expect(() => resolveRevocationOptions({ ...REQUIRED, jwtSecret }, 'h')).toThrow(
        expect.objectContaining({
          name: 'RangeError',
          message: expect.stringMatching(/jwtSecret/),
        }),
      );
    });
  });

  it.each<[keyof RevocationModuleOptions, unknown]>([
    ['maxStalenessMs', 0],
    ['maxStalenessMs', -1],
    ['maxStalenessMs', 1.5],
    ['maxStalenessMs', Number.NaN],
    ['accessTokenTtlSeconds', 0],
    ['accessTokenTtlSeconds', Number.POSITIVE_INFINITY],
    ['cacheMaxEntries', 0],
    ['cacheMaxEntries', 2 ** 53],
    ['syncIntervalMs', 0],
    ['failMode', 'maybe'],
    ['strategy', 'cache'],
    ['jwtAlgorithm', 'RS256'],
    ['jwtAlgorithm', 'none'],
  ])('rejects %s = %p with a RangeError naming it', (name, value) => {
    const options = { ...REQUIRED, [name]: value } as RevocationModuleOptions;
    let thrown: unknown;
    try {
      resolveRevocationOptions(options, 'h');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(RangeError);
    expect((thrown as Error).message).toMatch(new RegExp(`^${name} `));
  });

  it('is applied by RevocationModule.forRoot(), which fails fast on a bad value', () => {
    expect(() => RevocationModule.forRoot({ ...REQUIRED, failMode: 'maybe' as 'open' })).toThrow(
      /failMode/,
    );
  });
});
