import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import {
  DEVELOPMENT_JWT_SECRET,
  defaultLoginMaxConcurrentHashes,
  loadApiConfig,
} from './api-config';
import { apiConfigProblems } from '../testing/api-config-problems';

/** 32 random bytes: what production needs (`x` × 32 is refused now, see api-config-secrets.spec). */
const STRONG = randomBytes(32).toString('base64url');

describe('loadApiConfig', () => {
  describe('when nothing is set', () => {
    it('applies the documented defaults', () => {
      const config = loadApiConfig({});
      expect(config).toMatchObject({
        redisUrl: 'redis://127.0.0.1:6379',
        keyPrefix: 'rvk',
        jwtSecret: DEVELOPMENT_JWT_SECRET,
        accessTokenTtlSeconds: 900,
        port: 3000,
        cacheMaxEntries: 1_000_000,
        verifiedTokenCacheMax: 10_000,
        failMode: 'closed',
        maxStalenessMs: 5000,
        adminApiKey: undefined,
        strategy: 'local',
      });
      expect(config.instanceId).toMatch(/^.+-\d+$/);
    });
  });

  describe('when values are valid', () => {
    it('reads every variable', () => {
      const config = loadApiConfig({
        REDIS_URL: 'rediss://user:pw@redis.example:6380/2',
        KEY_PREFIX: 'tenant-a',
        ACCESS_TOKEN_TTL: '60',
        PORT: '3005',
        INSTANCE_ID: 'api-1',
        REGION: 'eu-west-1',
        PRESENCE_HEARTBEAT_MS: '250',
        REVOCATION_CACHE_MAX: '50',
        VERIFIED_TOKEN_CACHE_MAX: '0',
        FAIL_MODE: 'open',
        MAX_STALENESS_MS: '1000',
        SYNC_INTERVAL_MS: '200',
        ADMIN_API_KEY: 'k',
        REVOCATION_STRATEGY: 'redis',
      });
      expect(config).toMatchObject({
        redisUrl: 'rediss://user:pw@redis.example:6380/2',
        keyPrefix: 'tenant-a',
        accessTokenTtlSeconds: 60,
        port: 3005,
        instanceId: 'api-1',
        region: 'eu-west-1',
        presenceHeartbeatMs: 250,
        cacheMaxEntries: 50,
        verifiedTokenCacheMax: 0,
        failMode: 'open',
        maxStalenessMs: 1000,
        syncIntervalMs: 200,
        adminApiKey: 'k',
        strategy: 'redis',
      });
    });
  });

  describe('when values are invalid', () => {
    it('reports every bad variable at once, by name', () => {
      const problems = apiConfigProblems({
        REDIS_URL: 'http://x',
        PORT: 'eighty',
        ACCESS_TOKEN_TTL: '0',
        REVOCATION_CACHE_MAX: '1.5',
        FAIL_MODE: 'sometimes',
        REVOCATION_STRATEGY: 'cloud',
        KEY_PREFIX: 'has space',
        REGION: 'eu west',
        PRESENCE_HEARTBEAT_MS: '10',
      });
      for (const name of [
        'REGION',
        'PRESENCE_HEARTBEAT_MS',
        'REDIS_URL',
        'PORT',
        'ACCESS_TOKEN_TTL',
        'REVOCATION_CACHE_MAX',
        'FAIL_MODE',
        'REVOCATION_STRATEGY',
        'KEY_PREFIX',
      ]) {
        expect(problems.some((p) => p.startsWith(name))).toBe(true);
      }
    });

    it('throws a ConfigError with a stable code', () => {
      expect(() => loadApiConfig({ PORT: '-1' })).toThrow(
        expect.objectContaining({ code: 'ERR_CONFIG_INVALID' }),
      );
    });

    it('rejects an anti-entropy period that is not below the staleness bound', () => {
      expect(apiConfigProblems({ MAX_STALENESS_MS: '1000', SYNC_INTERVAL_MS: '1000' })).toEqual([
        'SYNC_INTERVAL_MS must be below MAX_STALENESS_MS',
      ]);
    });
  });

  describe('TRUST_PROXY', () => {
    it('leaves the socket address as the client when unset', () => {
      expect(loadApiConfig({}).trustProxy).toBeUndefined();
    });

    it('reads a hop count', () => {
      expect(loadApiConfig({ TRUST_PROXY: '2' }).trustProxy).toBe(2);
    });

    it('reads a comma-separated list of addresses and CIDRs', () => {
      expect(
        loadApiConfig({ TRUST_PROXY: '10.0.0.0/8, 192.168.1.7,::1,fd00::/8' }).trustProxy,
      ).toEqual(['10.0.0.0/8', '192.168.1.7', '::1', 'fd00::/8']);
    });

    it.each(['true', '*', '0', '33', '10.0.0.0/33', 'fd00::/129', 'proxy.internal', '10.0.0.1,'])(
      'refuses %j with a clear error',
      (value) => {
        expect(apiConfigProblems({ TRUST_PROXY: value })).toEqual([
          `TRUST_PROXY must be a hop count from 1 to 32 or a comma-separated list of IP addresses or CIDRs (e.g. 10.0.0.0/8,::1), got "${value}"`,
        ]);
      },
    );
  });

  describe('REFRESH_TOKEN_TTL and REFRESH_REUSE_GRACE_MS', () => {
    it('default to 14 days and 10 seconds', () => {
      expect(loadApiConfig({})).toMatchObject({
        refreshTokenTtlSeconds: 1_209_600,
        refreshReuseGraceMs: 10_000,
      });
    });

    it('read a value, and a grace of 0 (disabled)', () => {
      expect(
        loadApiConfig({ REFRESH_TOKEN_TTL: '3600', REFRESH_REUSE_GRACE_MS: '0' }),
      ).toMatchObject({ refreshTokenTtlSeconds: 3600, refreshReuseGraceMs: 0 });
    });

    it.each([
      ['REFRESH_TOKEN_TTL', '0'],
      ['REFRESH_TOKEN_TTL', '59'],
      ['REFRESH_TOKEN_TTL', '31536001'],
      ['REFRESH_TOKEN_TTL', '1h'],
      ['REFRESH_REUSE_GRACE_MS', '-1'],
      ['REFRESH_REUSE_GRACE_MS', '300001'],
      ['REFRESH_REUSE_GRACE_MS', '1.5'],
    ])('refuse %s=%s by name', (name, value) => {
      const problems = apiConfigProblems({ [name]: value });
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(new RegExp(`^${name} must be an integer from`));
    });
  });

  describe('REGISTER_IP_LIMIT', () => {
    it('defaults to 20 registrations per address per window and reads a value', () => {
      expect(loadApiConfig({}).registerIpLimit).toBe(20);
      expect(loadApiConfig({ REGISTER_IP_LIMIT: '500' }).registerIpLimit).toBe(500);
      expect(apiConfigProblems({ REGISTER_IP_LIMIT: '0' })).toHaveLength(1);
    });
  });

  describe('LOGIN_MAX_CONCURRENT_HASHES', () => {
    it('defaults to every core but one, at least one, below the libuv thread pool', () => {
      expect(defaultLoginMaxConcurrentHashes(1)).toBe(1);
      expect(defaultLoginMaxConcurrentHashes(2)).toBe(1);
      expect(defaultLoginMaxConcurrentHashes(3)).toBe(2);
      expect(defaultLoginMaxConcurrentHashes(16)).toBe(3);
      expect(defaultLoginMaxConcurrentHashes(16, '9')).toBe(8);
      expect(defaultLoginMaxConcurrentHashes(16, 'many')).toBe(3);
      // Replicas on one machine share its cores.
      expect(defaultLoginMaxConcurrentHashes(2, undefined, 3)).toBe(1);
      expect(defaultLoginMaxConcurrentHashes(16, '16', 3)).toBe(5);
      expect(loadApiConfig({}).loginMaxConcurrentHashes).toBe(
        defaultLoginMaxConcurrentHashes(availableParallelism()),
      );
      expect(loadApiConfig({ UV_THREADPOOL_SIZE: '64' }).loginMaxConcurrentHashes).toBe(
        Math.max(1, availableParallelism() - 1),
      );
    });

    it('reads a value', () => {
      expect(loadApiConfig({ LOGIN_MAX_CONCURRENT_HASHES: '6' }).loginMaxConcurrentHashes).toBe(6);
    });

    it.each(['0', '-1', '1.5', 'two', '1025'])('refuses %j by name', (value) => {
      expect(apiConfigProblems({ LOGIN_MAX_CONCURRENT_HASHES: value })).toEqual([
        `LOGIN_MAX_CONCURRENT_HASHES must be an integer from 1 to 1024, got "${value}"`,
      ]);
    });
  });

  describe('when NODE_ENV=production', () => {
    it('refuses the development secret', () => {
      expect(apiConfigProblems({ NODE_ENV: 'production' })).toEqual([
        'JWT_SECRET must be set when NODE_ENV=production',
      ]);
    });

    it('refuses a secret under 32 bytes', () => {
      expect(apiConfigProblems({ NODE_ENV: 'production', JWT_SECRET: 'short' })).toEqual([
        'JWT_SECRET must be at least 32 bytes when NODE_ENV=production',
      ]);
    });

    it('refuses REVOCATION_STRATEGY=none', () => {
      expect(
        apiConfigProblems({
          NODE_ENV: 'production',
          JWT_SECRET: STRONG,
          REVOCATION_STRATEGY: 'none',
        }),
      ).toEqual(['REVOCATION_STRATEGY=none is refused when NODE_ENV=production']);
    });

    it('accepts a strong secret', () => {
      expect(apiConfigProblems({ NODE_ENV: 'production', JWT_SECRET: STRONG })).toEqual([]);
    });
  });
});
