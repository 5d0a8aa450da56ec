import { freePort } from '../testing/free-port';
import { uniqueKeyPrefix } from '../testing/redis-test-prefix';
import {
  call,
  readiness,
  type RunningTestApp,
  startTestApp,
  testModuleOptions,
} from '../testing/test-application';
import { type FailMode } from './revocation-module-options';
import { TokenService } from './token.service';

/** Expects the 503 answer of a replica that cannot vouch for its revocation state. */
function expectUnavailable(
  response: Awaited<ReturnType<typeof call>>,
  code: 'ERR_NOT_IN_SYNC' | 'ERR_STORE_UNAVAILABLE',
): void {
  expect(response.status).toBe(503);
  expect(response.headers.get('content-type')).toMatch(/application\/json/);
  expect(response.headers.get('retry-after')).toBe('1');
  expect(response.body).toMatchObject({ statusCode: 503, error: code });
}

describe('when Redis cannot be reached', () => {
  let redisUrl: string;

  beforeAll(async () => {
    redisUrl = `redis://127.0.0.1:${await freePort()}`;
  });

  describe.each<FailMode>(['closed', 'open'])("with failMode '%s'", (failMode) => {
    let running: RunningTestApp;

    beforeAll(async () => {
      running = await startTestApp(
        'express',
        testModuleOptions(uniqueKeyPrefix(), { redisUrl, failMode }),
      );
    });

    afterAll(async () => {
      await running?.app.close();
    });

    it('starts, but reports itself not ready', async () => {
      expect(await readiness(running.url)).toEqual({
        ready: false,
        hydrated: false,
        subscribed: false,
        caughtUp: false,
        storeReachable: false,
        stalenessMs: -1,
      });
    });

    it('still serves @Public() routes', async () => {
      expect((await call(running.url, '/public')).status).toBe(200);
    });

    it('answers guarded routes with 503 and Retry-After, as its cache was never hydrated', async () => {
      const { token } = running.app.get(TokenService).sign('alice');
      expectUnavailable(await call(running.url, '/me', { token }), 'ERR_NOT_IN_SYNC');
      expectUnavailable(
        await call(running.url, '/logout', { method: 'POST', token }),
        'ERR_NOT_IN_SYNC',
      );
    });

    it('still answers a bad token with 401 rather than 503', async () => {
      const response = await call(running.url, '/me', { token: 'abc.def.ghi' });
      expect(response.status).toBe(401);
    });
  });

  describe("with strategy 'none'", () => {
    let running: RunningTestApp;

    beforeAll(async () => {
      running = await startTestApp(
        'fastify',
        testModuleOptions(uniqueKeyPrefix(), { redisUrl, strategy: 'none' }),
      );
    });

    afterAll(async () => {
      await running?.app.close();
    });

    it('answers a revocation it cannot record with 503 and Retry-After', async () => {
      const { token } = running.app.get(TokenService).sign('alice');
      expect((await call(running.url, '/me', { token })).status).toBe(200);
      expectUnavailable(
        await call(running.url, '/logout', { method: 'POST', token }),
        'ERR_STORE_UNAVAILABLE',
      );
    });
  });
});
