import { Injectable, type Type } from '@nestjs/common';
import { type Redis } from 'ioredis';
import { RedisKeys, RevocationStore, createCommandClient } from '@rescind/revocation-redis';
import {
  deleteKeysWithPrefix,
  freePort,
  RedisProxy,
  TEST_REDIS_URL,
  uniqueKeyPrefix,
  waitFor as waitUntil,
} from '@rescind/testing';
import {
  call,
  type HttpPlatform,
  readiness,
  type RunningTestApp,
  startTestApp,
  testModuleOptions,
  waitUntilReady,
} from '../testing';
import { RevocationChecker } from './revocation.checker';
import { REVOCATION_REDIS } from './revocation.constants';
import { RevocationModule } from './revocation.module';
import { RevocationSyncService } from './revocation-sync.service';
import { type FailMode, type RevocationModuleOptions } from './revocation-module-options';
import { TokenService } from './token.service';

type TestResponse = Awaited<ReturnType<typeof call>>;

/** Accepts every verified token, as a benchmark baseline might: what remains is the write path. */
@Injectable()
class AcceptEveryToken extends RevocationChecker {
  override check(): true {
    return true;
  }
}

/** Expects the 503 answer of a replica that cannot vouch for its revocation state. */
function expectUnavailable(
  response: TestResponse,
  code: 'ERR_NOT_IN_SYNC' | 'ERR_STORE_UNAVAILABLE',
): void {
  expect(response.status).toBe(503);
  expect(response.headers.get('content-type')).toMatch(/application\/json/);
  expect(response.headers.get('retry-after')).toBe('1');
  expect(response.body).toMatchObject({ statusCode: 503, error: code });
}

/**
 * Starts an app on `platform` whose Redis is behind a proxy that is not started: nothing listens
 * on its port yet, as when Redis cannot be reached at start-up.
 */
async function startBehindIdleProxy(
  platform: HttpPlatform,
  keyPrefix: string,
  overrides: Partial<RevocationModuleOptions>,
  checker?: Type<RevocationChecker>,
): Promise<{ proxy: RedisProxy; running: RunningTestApp }> {
  const proxy = new RedisProxy(await freePort());
  const options = testModuleOptions(keyPrefix, { redis: proxy.url, ...overrides });
  const running = await startTestApp(
    platform,
    checker === undefined ? options : RevocationModule.forRoot(options, { checker }),
  );
  return { proxy, running };
}

/**
 * Gives the app its Redis back, lets it connect, then closes it. Closing while Redis is still
 * unreachable fails (see "shutting down while Redis is unreachable" below).
 */
async function reconnectAndClose(running: RunningTestApp, proxy: RedisProxy): Promise<void> {
  await proxy.start();
  await waitUntilReady([running]);
  await running.app.close();
  await proxy.stop();
}

describe('when Redis cannot be reached at start-up', () => {
  describe.each<FailMode>(['closed', 'open'])("with failMode '%s'", (failMode) => {
    const keyPrefix = uniqueKeyPrefix();
    let proxy: RedisProxy;
    let running: RunningTestApp;

    beforeAll(async () => {
      ({ proxy, running } = await startBehindIdleProxy('express', keyPrefix, { failMode }));
    });

    afterAll(async () => {
      if (running !== undefined) await reconnectAndClose(running, proxy);
      await deleteKeysWithPrefix(keyPrefix);
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

    it('answers guarded routes with 503, a JSON body and Retry-After: its cache was never hydrated', async () => {
      const { token } = running.app.get(TokenService).sign('alice');
      expectUnavailable(await call(running.url, '/me', { token }), 'ERR_NOT_IN_SYNC');
      expectUnavailable(
        await call(running.url, '/logout', { method: 'POST', token }),
        'ERR_NOT_IN_SYNC',
      );
    });

    it('still answers a missing or bad token with 401 rather than 503', async () => {
      expect((await call(running.url, '/me')).status).toBe(401);
      expect((await call(running.url, '/me', { token: 'abc.def.ghi' })).status).toBe(401);
    });
  });

  describe('with a checker that asks nothing (a benchmark baseline, overridden)', () => {
    const keyPrefix = uniqueKeyPrefix();
    let proxy: RedisProxy;
    let running: RunningTestApp;

    beforeAll(async () => {
      ({ proxy, running } = await startBehindIdleProxy('fastify', keyPrefix, {}, AcceptEveryToken));
    });

    afterAll(async () => {
      if (running !== undefined) await reconnectAndClose(running, proxy);
      await deleteKeysWithPrefix(keyPrefix);
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

describe('when Redis is lost after start-up', () => {
  const MAX_STALENESS_MS = 500;

  describe.each<FailMode>(['closed', 'open'])("with failMode '%s'", (failMode) => {
    const keyPrefix = uniqueKeyPrefix();
    let proxy: RedisProxy;
    let running: RunningTestApp;
    let direct: Redis;
    let revokedBefore: string;
    let revokedMeanwhile: { token: string; jti: string; exp: number };
    let valid: string;

    beforeAll(async () => {
      proxy = new RedisProxy(await freePort());
      await proxy.start();
      running = await startTestApp(
        'express',
        testModuleOptions(keyPrefix, {
          redis: proxy.url,
          failMode,
          maxStalenessMs: MAX_STALENESS_MS,
        }),
      );
      direct = createCommandClient(
        { kind: 'standalone', url: TEST_REDIS_URL },
        `rescind-test-${keyPrefix}`,
      ) as Redis;
      await direct.connect();
      await waitUntilReady([running]);

      const tokens = running.app.get(TokenService);
      valid = tokens.sign('alice').token;
      revokedBefore = tokens.sign('alice').token;
      const meanwhile = tokens.sign('alice');
      revokedMeanwhile = {
        token: meanwhile.token,
        jti: meanwhile.claims.jti,
        exp: meanwhile.claims.exp,
      };
      expect(
        (await call(running.url, '/logout', { method: 'POST', token: revokedBefore })).status,
      ).toBe(204);
    });

    afterAll(async () => {
      await proxy?.start();
      await running?.app.close();
      await proxy?.stop();
      await direct?.quit();
      await deleteKeysWithPrefix(keyPrefix);
    });

    it('reports itself not ready once the bound has passed', async () => {
      await proxy.stop();
      const lost = await waitUntil(
        async () => {
          const state = await readiness(running.url);
          return !state.ready && state.stalenessMs > MAX_STALENESS_MS && state;
        },
        { timeoutMs: 5000, description: 'the replica to notice it is stale' },
      );
      expect(lost).toMatchObject({ ready: false, hydrated: true, subscribed: false });
    });

    if (failMode === 'closed') {
      it('answers guarded routes with 503 rather than guessing', async () => {
        expectUnavailable(await call(running.url, '/me', { token: valid }), 'ERR_NOT_IN_SYNC');
      });
    } else {
      it('keeps serving from its cache: valid tokens pass, known revocations still hold', async () => {
        expect((await call(running.url, '/me', { token: valid })).status).toBe(200);
        const revoked = await call(running.url, '/me', { token: revokedBefore });
        expect(revoked.status).toBe(401);
        expect(revoked.body).toMatchObject({ error: 'ERR_TOKEN_REVOKED' });
      });
    }

    it('catches up on what was revoked while it was cut off once Redis is back', async () => {
      // Another replica revokes while this one cannot hear it.
      const store = new RevocationStore(direct, new RedisKeys(keyPrefix));
      const now = Date.now();
      await store.revoke({
        kind: 'token',
        id: revokedMeanwhile.jti,
        expiresAtMs: revokedMeanwhile.exp * 1000,
        createdAtMs: now,
      });

      await proxy.start();
      await waitUntilReady([running]);
      expect((await call(running.url, '/me', { token: revokedMeanwhile.token })).status).toBe(401);
      expect((await call(running.url, '/me', { token: revokedBefore })).status).toBe(401);
      expect((await call(running.url, '/me', { token: valid })).status).toBe(200);
    });
  });
});

describe('shutting down while Redis is unreachable', () => {
  const keyPrefix = uniqueKeyPrefix();

  it('closes the app and releases every Redis connection', async () => {
    const redis = `redis://127.0.0.1:${await freePort()}`;
    const running = await startTestApp('express', testModuleOptions(keyPrefix, { redis }));
    const commandClient = running.app.get<Redis>(REVOCATION_REDIS);
    const closed = await running.app.close().then(
      () => 'closed',
      (error: unknown) => `close() failed: ${String(error)}`,
    );
    // Let a rejection nobody handled surface while this test still runs, so that it fails here
    // instead of taking the jest worker down after it.
    await new Promise((resolve) => setImmediate(resolve));
    const commandClientStatus = commandClient.status;
    // Run the shutdown hook close() may have skipped: its command client would keep reconnecting.
    await running.app.get(RevocationSyncService).onApplicationShutdown();

    expect(closed).toBe('closed');
    // Either ended, or caught between two attempts with the reconnection timer cancelled.
    expect(['end', 'reconnecting']).toContain(commandClientStatus);
    expect(Reflect.get(commandClient, 'reconnectTimeout')).toBeNull();
  });
});
