import { createSecretKey, generateKeyPairSync } from 'node:crypto';
import { REVOCATION_DEFAULTS, systemClock } from '@rescind/revocation-core';
import { type RedisTopology } from '@rescind/revocation-redis';
import { RevocationModule } from './revocation.module';
import {
  type RevocationModuleOptions,
  externalIdPrefix,
  resolveRevocationOptions,
} from './revocation-module-options';

const REQUIRED: RevocationModuleOptions = {
  redis: 'redis://127.0.0.1:6379',
  jwtSecret: 'x'.repeat(32),
};

describe('resolveRevocationOptions', () => {
  it('applies the documented defaults', () => {
    const resolved = resolveRevocationOptions(REQUIRED, 'host-42');
    expect(resolved).toMatchObject({
      redisTopology: { kind: 'standalone', url: 'redis://127.0.0.1:6379' },
      keyPrefix: 'rvk',
      jwtAlgorithm: 'HS256',
      accessTokenTtlSeconds: 900,
      cacheMaxEntries: 1_000_000,
      verifiedTokenCacheMax: 10_000,
      failMode: 'closed',
      maxStalenessMs: 5000,
      instanceId: 'host-42',
      syncIntervalMs: 1000,
      clockSkewMs: 500,
      refreshTokenTtlSeconds: 1_209_600,
      refreshReuseGraceMs: 10_000,
    });
    expect(resolved.clock).toBe(systemClock);
  });

  it('takes every default from REVOCATION_DEFAULTS', () => {
    const resolved = resolveRevocationOptions(REQUIRED, 'h');
    for (const name of [
      'keyPrefix',
      'jwtAlgorithm',
      'accessTokenTtlSeconds',
      'cacheMaxEntries',
      'verifiedTokenCacheMax',
      'failMode',
      'maxStalenessMs',
      'clockSkewMs',
      'refreshTokenTtlSeconds',
      'refreshReuseGraceMs',
      'presenceHeartbeatMs',
      'presenceMinIntervalMs',
    ] as const) {
      expect(resolved[name]).toBe(REVOCATION_DEFAULTS[name]);
    }
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
      instanceId: 'replica-1',
      syncIntervalMs: 250,
      refreshTokenTtlSeconds: 3600,
      refreshReuseGraceMs: 0,
    };
    const { jwtSecret: _secret, redis: _redis, ...rest } = options;
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
    it.each([
      [
        'missing',
        undefined,
        /^RevocationModule: jwtSecret is required: pass a secret of at least 32 bytes \(e\.g\. process\.env\.JWT_SECRET/,
      ],
      ['null', null, /jwtSecret is required/],
      ['an empty string', '', /jwtSecret is empty: pass a secret of at least 32 bytes/],
      ['a number', 42, /jwtSecret must be a string, a Buffer or a secret KeyObject/],
      ['31 bytes', 'x'.repeat(31), /jwtSecret is too weak \(31 bytes; RFC 7518 §3\.2.*at least 32/],
      ['a 16-byte Buffer', Buffer.alloc(16, 1), /jwtSecret is too weak \(16 bytes/],
      ['a 16-byte KeyObject', createSecretKey(Buffer.alloc(16, 1)), /jwtSecret is too weak/],
    ])('names jwtSecret and the fix when it is %s', (_case, jwtSecret, message) => {
      const options = { ...REQUIRED, jwtSecret } as unknown as RevocationModuleOptions;
      expect(() => resolveRevocationOptions(options, 'h')).toThrow(
        expect.objectContaining({ name: 'RangeError', message: expect.stringMatching(message) }),
      );
    });

    it('fails RevocationModule.forRoot itself, before any provider is built', () => {
      const { jwtSecret: _secret, ...withoutSecret } = REQUIRED;
      expect(() =>
        RevocationModule.forRoot(withoutSecret as unknown as RevocationModuleOptions),
      ).toThrow(/RevocationModule: jwtSecret is required/);
    });

    it('still accepts a shorter key rotated out, so that a rotation under way keeps verifying', () => {
      const resolved = resolveRevocationOptions(
        { ...REQUIRED, jwtPreviousSecrets: ['short-old-secret'] },
        'h',
      );
      expect(resolved.jwtPreviousKeys[0]?.symmetricKeySize).toBe(16);
      expect(() =>
        resolveRevocationOptions({ ...REQUIRED, jwtPreviousSecrets: [''] }, 'h'),
      ).toThrow(/jwtPreviousSecrets\[0\] is empty/);
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
    ['clock', {}],
    ['jwtAlgorithm', 'RS256'],
    ['jwtAlgorithm', 'none'],
    ['refreshTokenTtlSeconds', 0],
    ['refreshTokenTtlSeconds', 1.5],
    ['refreshReuseGraceMs', -1],
    ['refreshReuseGraceMs', Number.NaN],
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

  describe('the Redis topology', () => {
    it('takes a URL as a standalone server', () => {
      expect(resolveRevocationOptions(REQUIRED, 'h').redisTopology).toEqual({
        kind: 'standalone',
        url: 'redis://127.0.0.1:6379',
      });
    });

    it.each<RedisTopology>([
      { kind: 'standalone', url: 'rediss://:pw@redis.example:6380/2' },
      {
        kind: 'sentinel',
        url: 'redis://:pw@ignored',
        sentinels: [{ host: '10.0.0.1', port: 26379 }],
        name: 'mymaster',
      },
      { kind: 'cluster', url: 'redis://ignored', nodes: [{ host: '10.0.0.1', port: 7000 }] },
    ])('takes a $kind topology value as it is, without rebuilding it', (topology) => {
      expect(resolveRevocationOptions({ ...REQUIRED, redis: topology }, 'h').redisTopology).toBe(
        topology,
      );
    });

    it('hash-tags the key prefix in a cluster', () => {
      const redis: RedisTopology = {
        kind: 'cluster',
        url: 'redis://x',
        nodes: [{ host: 'a', port: 1 }],
      };
      expect(resolveRevocationOptions({ ...REQUIRED, redis }, 'h').keyPrefix).toBe('{rvk}');
    });

    it.each<[string, RedisTopology | string, RegExp]>([
      [
        'a URL of another scheme',
        'http://x',
        /^redis\.url must be a redis:\/\/ or rediss:\/\/ URL/,
      ],
      [
        'Sentinels without a master name',
        { kind: 'sentinel', url: 'redis://x', sentinels: [{ host: 'a', port: 1 }], name: '' },
        /^redis\.name is required with redis\.sentinels/,
      ],
      [
        'a cluster without nodes',
        { kind: 'cluster', url: 'redis://x', nodes: [] },
        /^redis\.nodes lists no host:port/,
      ],
      [
        'a node with a bad port',
        { kind: 'cluster', url: 'redis://x', nodes: [{ host: 'a', port: 0 }] },
        /^redis\.nodes must be host:port entries/,
      ],
    ])('rejects %s with a RangeError naming the part', (_case, redis, message) => {
      expect(() => resolveRevocationOptions({ ...REQUIRED, redis }, 'h')).toThrow(
        expect.objectContaining({ name: 'RangeError', message: expect.stringMatching(message) }),
      );
    });
  });

  describe('fleet presence', () => {
    it('publishes no region by default, a heartbeat a second living three heartbeats', () => {
      expect(resolveRevocationOptions(REQUIRED, 'h')).toMatchObject({
        region: undefined,
        presenceHeartbeatMs: 1000,
        presenceTtlMs: 3000,
        presenceMinIntervalMs: 100,
      });
    });

    it('derives the TTL from the heartbeat given, and keeps the interval within it', () => {
      expect(resolveRevocationOptions({ ...REQUIRED, presenceHeartbeatMs: 50 }, 'h')).toMatchObject(
        { presenceHeartbeatMs: 50, presenceTtlMs: 150, presenceMinIntervalMs: 50 },
      );
    });

    it('keeps a region of its character set', () => {
      expect(resolveRevocationOptions({ ...REQUIRED, region: 'eu-west-1' }, 'h').region).toBe(
        'eu-west-1',
      );
    });

    it.each<[Partial<RevocationModuleOptions>, string]>([
      [{ region: '' }, 'region must be 1-64 of [A-Za-z0-9_.:-], got ""'],
      [{ region: 'eu west' }, 'region must be 1-64 of [A-Za-z0-9_.:-], got "eu west"'],
      [{ presenceHeartbeatMs: 0 }, 'presenceHeartbeatMs must be a positive integer, got 0'],
      [{ presenceTtlMs: 1.5 }, 'presenceTtlMs must be a positive integer, got 1.5'],
      [
        { presenceHeartbeatMs: 1000, presenceTtlMs: 1000 },
        'presenceTtlMs (1000) must be longer than presenceHeartbeatMs (1000), ' +
          'or a live replica vanishes from the fleet between two heartbeats',
      ],
      [
        { presenceMinIntervalMs: 2000 },
        'presenceMinIntervalMs (2000) must be at most presenceHeartbeatMs (1000)',
      ],
      [
        { presenceMinIntervalMs: -1 },
        'presenceMinIntervalMs must be a non-negative integer, got -1',
      ],
    ])('rejects %p with a message naming the option', (options, message) => {
      expect(() => resolveRevocationOptions({ ...REQUIRED, ...options }, 'h')).toThrow(
        new RangeError(message),
      );
    });
  });

  describe('options the module does not have', () => {
    it.each(['strategy', 'redisUrl', 'redisSentinels', 'redisClusterNodes', 'failmode'])(
      'rejects %s by name',
      (name) => {
        const options = { ...REQUIRED, [name]: 'none' } as RevocationModuleOptions;
        expect(() => resolveRevocationOptions(options, 'h')).toThrow(
          new RangeError(`${name} is not an option of RevocationModule`),
        );
      },
    );

    it('has no strategy: the checker is the product unless the wiring overrides it', () => {
      // @ts-expect-error `strategy` left the library; benchmark baselines live in the API app.
      const options: RevocationModuleOptions = { ...REQUIRED, strategy: 'none' };
      expect(() => RevocationModule.forRoot(options)).toThrow(/strategy is not an option/);
    });
  });

  it('is applied by RevocationModule.forRoot(), which fails fast on a bad value', () => {
    expect(() => RevocationModule.forRoot({ ...REQUIRED, failMode: 'maybe' as 'open' })).toThrow(
      /failMode/,
    );
  });

  describe('externalIssuers', () => {
    const issuer = 'https://id.example.com/realms/a';

    it('gives each issuer a stable id prefix of its own, never one our ids can have', () => {
      const resolved = resolveRevocationOptions(
        {
          ...REQUIRED,
          externalIssuers: [
            { issuer, audience: 'api' },
            { issuer: 'https://id.example.com/realms/b', audience: 'api', clientId: 'c' },
          ],
        },
        'host',
      );
      const [a, b] = resolved.externalIssuers;
      expect(a).toMatchObject({
        issuer,
        audience: 'api',
        jwksCooldownMs: 30_000,
        jwksRefreshMs: 300_000,
        tokenIdClaim: 'jti',
        logoutRevokes: 'session',
      });
      expect(a?.idPrefix).toMatch(/^~[A-Za-z0-9_-]{8}~$/);
      expect(a?.idPrefix).toBe(externalIdPrefix(issuer));
      expect(b?.idPrefix).not.toBe(a?.idPrefix);
    });

    it('defaults to none', () => {
      expect(resolveRevocationOptions(REQUIRED, 'host').externalIssuers).toEqual([]);
    });

    it.each<[string, unknown, string]>([
      ['no URL', { issuer: 'id.example.com', audience: 'api' }, 'externalIssuers[0].issuer'],
      ['another scheme', { issuer: 'ftp://x', audience: 'api' }, 'externalIssuers[0].issuer'],
      ['no audience', { issuer, audience: '' }, 'externalIssuers[0].audience'],
      ['an unknown option', { issuer, audience: 'a', jwks: 'x' }, 'externalIssuers[0].jwks'],
      [
        'a token id claim that is no name',
        { issuer, audience: 'a', tokenIdClaim: 'a b' },
        'externalIssuers[0].tokenIdClaim',
      ],
      [
        'an unknown logout scope',
        { issuer, audience: 'a', logoutRevokes: 'everyone' },
        'externalIssuers[0].logoutRevokes',
      ],
    ])('rejects %s by name', (_case, entry, name) => {
      expect(() =>
        resolveRevocationOptions(
          { ...REQUIRED, externalIssuers: [entry as { issuer: string; audience: string }] },
          'host',
        ),
      ).toThrow(name);
    });

    it('rejects an issuer listed twice', () => {
      const twice = [
        { issuer, audience: 'a' },
        { issuer, audience: 'b' },
      ];
      expect(() =>
        resolveRevocationOptions({ ...REQUIRED, externalIssuers: twice }, 'host'),
      ).toThrow('externalIssuers[1].issuer is listed twice');
    });
  });
  describe('securityEventTransmitters', () => {
    const issuer = 'https://ssf.example.com/t';

    it('resolves each transmitter with its defaults and a replay scope of its own', () => {
      const resolved = resolveRevocationOptions(
        {
          ...REQUIRED,
          securityEventTransmitters: [
            { issuer, audience: 'api', pushToken: 'push-token' },
            { issuer: 'https://ssf.example.com/u', audience: 'api' },
          ],
        },
        'host',
      );
      const [a, b] = resolved.securityEventTransmitters;
      expect(a).toEqual({
        issuer,
        audience: 'api',
        pushToken: 'push-token',
        jwksCooldownMs: 30_000,
        jwksRefreshMs: 300_000,
        fetchTimeoutMs: 5_000,
        replayScope: `ssf.${externalIdPrefix(issuer).slice(1, -1)}`,
      });
      expect(a?.replayScope).toMatch(/^ssf\.[A-Za-z0-9_-]{8}$/);
      expect(b?.pushToken).toBeUndefined();
      expect(b?.replayScope).not.toBe(a?.replayScope);
    });

    it('defaults to none', () => {
      expect(resolveRevocationOptions(REQUIRED, 'host').securityEventTransmitters).toEqual([]);
    });

    it.each<[string, unknown, string]>([
      ['no URL', { issuer: 'ssf', audience: 'api' }, 'securityEventTransmitters[0].issuer'],
      [
        'another scheme',
        { issuer: 'ftp://x', audience: 'api' },
        'securityEventTransmitters[0].issuer',
      ],
      ['no audience', { issuer, audience: '' }, 'securityEventTransmitters[0].audience'],
      [
        'a push token with a space',
        { issuer, audience: 'a', pushToken: 'a b' },
        'securityEventTransmitters[0].pushToken',
      ],
      [
        'an unknown option',
        { issuer, audience: 'a', clientId: 'x' },
        'securityEventTransmitters[0].clientId',
      ],
    ])('rejects %s by name', (_case, entry, name) => {
      expect(() =>
        resolveRevocationOptions(
          {
            ...REQUIRED,
            securityEventTransmitters: [entry as { issuer: string; audience: string }],
          },
          'host',
        ),
      ).toThrow(name);
    });

    it('rejects a transmitter listed twice', () => {
      const twice = [
        { issuer, audience: 'a' },
        { issuer, audience: 'b' },
      ];
      expect(() =>
        resolveRevocationOptions({ ...REQUIRED, securityEventTransmitters: twice }, 'host'),
      ).toThrow('securityEventTransmitters[1].issuer is listed twice');
    });
  });
});
