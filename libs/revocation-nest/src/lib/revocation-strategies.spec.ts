import { RedisKeys } from '@rescind/revocation-redis';
import { Redis } from 'ioredis';
import {
  deleteKeysWithPrefix,
  TEST_REDIS_URL,
  uniqueKeyPrefix,
  waitFor as waitUntil,
} from '@rescind/testing';
import {
  call,
  readiness,
  type RunningTestApp,
  startTestApp,
  testModuleOptions,
} from '@rescind/testing/nest';
import { TokenService } from './token.service';

async function startReady(strategy: 'redis' | 'none', keyPrefix: string): Promise<RunningTestApp> {
  const running = await startTestApp('express', testModuleOptions(keyPrefix, { strategy }));
  await waitUntil(async () => (await readiness(running.url)).ready, {
    timeoutMs: 5000,
    description: `the ${strategy}-strategy app to be ready`,
  });
  return running;
}

describe('revocation strategies', () => {
  describe("with strategy 'redis'", () => {
    const keyPrefix = uniqueKeyPrefix();
    let running: RunningTestApp;
    let redis: Redis;

    beforeAll(async () => {
      redis = new Redis(TEST_REDIS_URL);
      running = await startReady('redis', keyPrefix);
    });

    afterAll(async () => {
      await running?.app.close();
      await deleteKeysWithPrefix(keyPrefix);
      await redis?.quit();
    });

    it('rejects a token once it is logged out', async () => {
      const { token } = running.app.get(TokenService).sign('heidi');
      expect((await call(running.url, '/me', { token })).status).toBe(200);
      expect((await call(running.url, '/logout', { method: 'POST', token })).status).toBe(204);
      const response = await call(running.url, '/me', { token });
      expect(response.status).toBe(401);
      expect(response.body).toMatchObject({ error: 'ERR_TOKEN_REVOKED' });
    });

    it('asks the store on every request: a record written straight into Redis is honoured', async () => {
      const { token, claims } = running.app.get(TokenService).sign('ivan');
      expect((await call(running.url, '/me', { token })).status).toBe(200);
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
      const response = await call(running.url, '/me', { token });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
    });

    it('rejects every earlier token of a user logged out everywhere', async () => {
      const tokens = running.app.get(TokenService);
      const before = tokens.sign('judy').token;
      expect(
        (await call(running.url, '/logout-all', { method: 'POST', token: before })).status,
      ).toBe(204);
      const after = tokens.sign('judy').token;
      expect((await call(running.url, '/me', { token: before })).status).toBe(401);
      expect((await call(running.url, '/me', { token: after })).status).toBe(200);
    });
  });

  describe("with strategy 'none'", () => {
    const keyPrefix = uniqueKeyPrefix();
    let running: RunningTestApp;

    beforeAll(async () => {
      running = await startReady('none', keyPrefix);
    });

    afterAll(async () => {
      await running?.app.close();
      await deleteKeysWithPrefix(keyPrefix);
    });

    it('accepts a token that was logged out (the benchmark baseline)', async () => {
      const { token } = running.app.get(TokenService).sign('mallory');
      expect((await call(running.url, '/logout', { method: 'POST', token })).status).toBe(204);
      expect((await call(running.url, '/me', { token })).status).toBe(200);
      expect((await call(running.url, '/logout-all', { method: 'POST', token })).status).toBe(204);
      expect((await call(running.url, '/me', { token })).status).toBe(200);
    });

    it('still verifies the token itself', async () => {
      const response = await call(running.url, '/me', { token: 'abc.def.ghi' });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
    });
  });
});
