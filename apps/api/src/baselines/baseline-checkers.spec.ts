import { type INestApplication } from '@nestjs/common';
import { loadApiConfig } from '@rescind/config';
import { RedisKeys } from '@rescind/revocation-redis';
import {
  RevocationChecker,
  RevocationHealth,
  RevocationModule,
  TokenService,
} from '@rescind/revocation-nest';
import { deleteKeysWithPrefix, TEST_REDIS_URL, uniqueKeyPrefix, waitFor } from '@rescind/testing';
import { Redis } from 'ioredis';
import { createApp } from '../http/create-app';
import { baselineWiring } from './baseline-checkers';
import { NoRevocationChecker } from './no-revocation.checker';
import { RedisRevocationChecker } from './redis-revocation.checker';

interface RunningApi {
  readonly app: INestApplication;
  readonly url: string;
}

/** The API in this process, on a free port, as `REVOCATION_STRATEGY=<strategy>` configures it. */
async function startApi(strategy: string, keyPrefix: string): Promise<RunningApi> {
  const config = loadApiConfig({
    REDIS_URL: TEST_REDIS_URL,
    KEY_PREFIX: keyPrefix,
    REVOCATION_STRATEGY: strategy,
    HTTP_ADAPTER: 'express',
    LOG_LEVEL: 'silent',
    MAX_STALENESS_MS: '2000',
    PORT: '0',
  });
  const app = await createApp(config);
  await RevocationModule.connect(app);
  await app.listen(0, '127.0.0.1');
  const url = new URL(await app.getUrl());
  url.hostname = '127.0.0.1';
  await waitFor(() => app.get(RevocationHealth).readiness().ready, {
    timeoutMs: 5000,
    description: `the ${strategy}-strategy API to be ready`,
  });
  return { app, url: url.origin };
}

/**
 * The API a `describe` block's tests call: started before them under a key prefix of its own,
 * closed after them with its keys deleted.
 * @returns the key prefix, and the running API (once the block's `beforeAll` has run)
 */
function apiPerBlock(strategy: string): { readonly keyPrefix: string; api(): RunningApi } {
  const keyPrefix = uniqueKeyPrefix();
  let running: RunningApi | undefined;
  beforeAll(async () => {
    running = await startApi(strategy, keyPrefix);
  });
  afterAll(async () => {
    await running?.app.close();
    await deleteKeysWithPrefix(keyPrefix);
  });
  return {
    keyPrefix,
    api() {
      if (running === undefined) throw new Error(`the ${strategy}-strategy API did not start`);
      return running;
    },
  };
}

async function call(
  api: RunningApi,
  path: string,
  token: string,
  method: 'GET' | 'POST' = 'GET',
): Promise<Response> {
  const response = await fetch(`${api.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}` },
  });
  await response.arrayBuffer();
  return response;
}

describe('baselineWiring', () => {
  it('keeps the library checker for local, the product', () => {
    expect(baselineWiring({ strategy: 'local', production: true })).toEqual({});
  });

  it.each([
    ['redis', RedisRevocationChecker],
    ['none', NoRevocationChecker],
  ] as const)('overrides it with the %s baseline', (strategy, checker) => {
    expect(baselineWiring({ strategy, production: false })).toEqual({ checker });
  });

  it('refuses none in production, whoever builds the module', () => {
    expect(() => baselineWiring({ strategy: 'none', production: true })).toThrow(
      'REVOCATION_STRATEGY=none is refused when NODE_ENV=production',
    );
  });
});

describe('REVOCATION_STRATEGY', () => {
  let redis: Redis;

  beforeAll(() => {
    redis = new Redis(TEST_REDIS_URL);
  });

  afterAll(async () => {
    await redis?.quit();
  });

  describe('local (the default)', () => {
    const { api } = apiPerBlock('local');

    it('serves the library checker, no baseline', () => {
      const checker = api().app.get(RevocationChecker);
      expect(checker).not.toBeInstanceOf(RedisRevocationChecker);
      expect(checker).not.toBeInstanceOf(NoRevocationChecker);
    });
  });

  describe('redis: one store lookup per request', () => {
    const { api, keyPrefix } = apiPerBlock('redis');

    it('serves the redis baseline', () => {
      expect(api().app.get(RevocationChecker)).toBeInstanceOf(RedisRevocationChecker);
    });

    it('rejects a token once it is logged out', async () => {
      const { token } = api().app.get(TokenService).sign('heidi');
      expect((await call(api(), '/me', token)).status).toBe(200);
      expect((await call(api(), '/auth/logout', token, 'POST')).status).toBe(204);
      const response = await fetch(`${api().url}/me`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({ error: 'ERR_TOKEN_REVOKED' });
    });

    it('asks the store on every request: a record written straight into Redis is honoured', async () => {
      const { token, claims } = api().app.get(TokenService).sign('ivan');
      expect((await call(api(), '/me', token)).status).toBe(200);
      // No event, no log entry: only a per-request lookup can see this one.
      const record = {
        kind: 'token',
        id: claims.jti,
        expiresAtMs: claims.exp * 1000,
        createdAtMs: 0,
      };
      await redis.set(
        new RedisKeys(keyPrefix).record('token', claims.jti),
        JSON.stringify(record),
        'PX',
        60_000,
      );
      const response = await call(api(), '/me', token);
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
    });

    it('rejects every earlier token of a user logged out everywhere', async () => {
      const tokens = api().app.get(TokenService);
      const before = tokens.sign('judy').token;
      expect((await call(api(), '/auth/logout-all', before, 'POST')).status).toBe(204);
      const after = tokens.sign('judy').token;
      expect((await call(api(), '/me', before)).status).toBe(401);
      expect((await call(api(), '/me', after)).status).toBe(200);
    });
  });

  describe('none: no check at all', () => {
    const { api } = apiPerBlock('none');

    it('accepts a token that was logged out (the benchmark baseline)', async () => {
      const { token } = api().app.get(TokenService).sign('mallory');
      expect((await call(api(), '/auth/logout', token, 'POST')).status).toBe(204);
      expect((await call(api(), '/me', token)).status).toBe(200);
      expect((await call(api(), '/auth/logout-all', token, 'POST')).status).toBe(204);
      expect((await call(api(), '/me', token)).status).toBe(200);
    });

    it('still verifies the token itself', async () => {
      const response = await call(api(), '/me', 'abc.def.ghi');
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
    });
  });
});
