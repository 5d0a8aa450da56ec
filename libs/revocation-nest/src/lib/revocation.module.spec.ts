import { randomBytes } from 'node:crypto';
import { type DynamicModule } from '@nestjs/common';
import { sign, type SignOptions } from 'jsonwebtoken';
import { deleteKeysWithPrefix, uniqueKeyPrefix, waitFor as waitUntil } from '@rescind/testing';
import {
  call,
  type HttpPlatform,
  readiness,
  type RunningTestApp,
  startTestApp,
  TEST_JWT_SECRET,
  testModuleOptions,
} from '../testing';
import { InvalidInputError } from '@rescind/revocation-core';
import { RevocationStore } from '@rescind/revocation-redis';
import { type AccessTokenClaims } from './access-token-claims';
import { RevocationModule } from './revocation.module';
import { RevocationService } from './revocation.service';
import { type RevocationModuleOptions } from './revocation-module-options';
import { TokenService } from './token.service';

const INVALID_TOKEN_CHALLENGE =
  /^Bearer realm="api", error="invalid_token", error_description="[^"]+"$/;

function base64url(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

function freshJti(): string {
  return randomBytes(16).toString('base64url');
}

describe.each<HttpPlatform>(['express', 'fastify'])('RevocationModule on %s', (platform) => {
  const keyPrefix = uniqueKeyPrefix();
  let running: RunningTestApp;
  let tokens: TokenService;
  let url: string;

  const signFor = (sub: string): { token: string; claims: AccessTokenClaims } =>
    tokens.sign(sub, { username: `name-of-${sub}` });

  /** Expects a 401 RFC 6750 `invalid_token` answer and returns its `error_description`. */
  async function expectInvalidToken(init: Parameters<typeof call>[2]): Promise<string> {
    const response = await call(url, '/me', init);
    expect(response.status).toBe(401);
    expect(response.headers.get('content-type')).toMatch(/application\/json/);
    expect(response.body).toMatchObject({ statusCode: 401 });
    const challenge = response.headers.get('www-authenticate') ?? '';
    expect(challenge).toMatch(INVALID_TOKEN_CHALLENGE);
    return /error_description="([^"]+)"/.exec(challenge)?.[1] ?? '';
  }

  beforeAll(async () => {
    running = await startTestApp(platform, testModuleOptions(keyPrefix));
    url = running.url;
    tokens = running.app.get(TokenService);
    await waitUntil(async () => (await readiness(url)).ready, {
      timeoutMs: 5000,
      description: `${platform} app to become ready`,
    });
  });

  afterAll(async () => {
    await running?.app.close();
    await deleteKeysWithPrefix(keyPrefix);
  });

  describe('readiness', () => {
    it('reports ready once hydrated, subscribed, caught up and fresh', async () => {
      const ready = await readiness(url);
      expect(ready).toMatchObject({
        ready: true,
        hydrated: true,
        subscribed: true,
        caughtUp: true,
        storeReachable: true,
      });
      expect(ready.stalenessMs).toBeGreaterThanOrEqual(0);
      expect(ready.stalenessMs).toBeLessThanOrEqual(2000);
    });
  });

  describe('when no token is presented', () => {
    it('serves a @Public() route', async () => {
      const response = await call(url, '/public');
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ ok: true });
    });

    it('answers a guarded route with 401, a bare Bearer challenge and a JSON body', async () => {
      const response = await call(url, '/me');
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer realm="api"');
      expect(response.headers.get('content-type')).toMatch(/application\/json/);
      expect(response.body).toMatchObject({ statusCode: 401, error: 'ERR_TOKEN_MISSING' });
    });

    it('treats a non-Bearer Authorization scheme as no token', async () => {
      const response = await call(url, '/me', { authorization: 'Basic dXNlcjpwYXNz' });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer realm="api"');
    });
  });

  describe('when the token is not acceptable', () => {
    it('rejects garbage', async () => {
      expect(await expectInvalidToken({ token: 'not-a-jwt' })).toMatch(/malformed/);
      expect(await expectInvalidToken({ token: 'abc.def.ghi' })).toMatch(/malformed/);
    });

    it('rejects a malformed Authorization header', async () => {
      expect(await expectInvalidToken({ authorization: 'Bearer two words' })).toMatch(/malformed/);
      expect(await expectInvalidToken({ authorization: 'Bearer' })).toMatch(/malformed/);
    });

    it('rejects an oversized token with 401, not 431 or 5xx', async () => {
      const description = await expectInvalidToken({ token: 'a'.repeat(9000) });
      expect(description).toMatch(/malformed/);
    });

    it('rejects an unsigned `alg: none` token', async () => {
      const now = nowSeconds();
      const token = `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url({
        sub: 'mallory',
        jti: freshJti(),
        iat: now,
        exp: now + 60,
      })}.`;
      await expectInvalidToken({ token });
    });

    // Tokens `jsonwebtoken` signs, each wrong in one way, and what the rejection's description names.
    it.each<{
      name: string;
      payload: (now: number) => object;
      secret?: string;
      options: SignOptions;
      names: RegExp;
    }>([
      {
        name: 'rejects a token signed with another key',
        payload: () => ({ sub: 'mallory', jti: freshJti() }),
        secret: 'y'.repeat(32),
        options: { algorithm: 'HS256', expiresIn: 60 },
        names: /signature/,
      },
      {
        name: 'rejects a token signed with the right key but another HMAC algorithm',
        payload: () => ({ sub: 'mallory', jti: freshJti() }),
        options: { algorithm: 'HS512', expiresIn: 60 },
        names: /signature/,
      },
      {
        name: 'rejects a token without jti',
        payload: () => ({ sub: 'alice' }),
        options: { algorithm: 'HS256', expiresIn: 60 },
        names: /jti/,
      },
      {
        name: 'rejects a token that outlives the configured lifetime',
        payload: () => ({ sub: 'alice', jti: freshJti() }),
        options: { algorithm: 'HS256', expiresIn: 3600 },
        names: /lifetime/,
      },
      {
        name: 'rejects a token issued in the future',
        payload: (now) => ({ sub: 'alice', jti: freshJti(), iat: now + 60, exp: now + 90 }),
        options: { algorithm: 'HS256' },
        names: /future/,
      },
      {
        name: 'rejects a token whose sub cannot be revoked',
        payload: () => ({ sub: 'two words', jti: freshJti() }),
        options: { algorithm: 'HS256', expiresIn: 60 },
        names: /sub/,
      },
      {
        name: 'rejects an expired token',
        payload: (now) => ({ sub: 'alice', jti: freshJti(), iat: now - 120, exp: now - 70 }),
        options: { algorithm: 'HS256' },
        names: /expired/,
      },
    ])('$name', async ({ payload, secret = TEST_JWT_SECRET, options, names }) => {
      const token = sign(payload(nowSeconds()), secret, options);
      expect(await expectInvalidToken({ token })).toMatch(names);
    });

    it('names the error code in the JSON body', async () => {
      const response = await call(url, '/me', { token: 'abc.def.ghi' });
      expect(response.body).toMatchObject({ statusCode: 401, error: 'ERR_TOKEN_INVALID' });
    });
  });

  describe('when the request itself is bad', () => {
    it('answers an unknown route with 404 and a JSON body', async () => {
      const response = await call(url, '/nowhere');
      expect(response.status).toBe(404);
      expect(response.body).toMatchObject({ statusCode: 404 });
    });

    it('answers malformed JSON with 400 and a JSON body, never 5xx', async () => {
      const { token } = signFor('alice');
      const response = await fetch(`${url}/logout`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: '{"broken":',
      });
      expect(response.status).toBe(400);
      expect(response.headers.get('content-type')).toMatch(/application\/json/);
      expect(await response.json()).toMatchObject({ statusCode: 400 });
    });
  });

  describe('when the token is valid', () => {
    it('answers with its verified claims', async () => {
      const { token, claims } = signFor('alice');
      const response = await call(url, '/me', { token });
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({
        sub: 'alice',
        username: 'name-of-alice',
        jti: claims.jti,
        iat: claims.iat,
        exp: claims.exp,
      });
    });

    it('accepts it from the access_token cookie as well as from the header', async () => {
      const { token } = signFor('alice');
      const byCookie = await call(url, '/me', { cookie: `theme=dark; access_token=${token}` });
      expect(byCookie.status).toBe(200);
      expect(byCookie.body).toMatchObject({ sub: 'alice' });
    });

    it('prefers the Authorization header over the cookie', async () => {
      const { token } = signFor('alice');
      const response = await call(url, '/me', { token, cookie: 'access_token=garbage' });
      expect(response.status).toBe(200);
    });
  });

  describe('when the token is logged out', () => {
    it('rejects it at once on this replica while other tokens of the user still pass', async () => {
      const revoked = signFor('bob');
      const other = signFor('bob');
      expect((await call(url, '/me', { token: revoked.token })).status).toBe(200);

      const logout = await call(url, '/logout', { method: 'POST', token: revoked.token });
      expect(logout.status).toBe(204);

      expect(await expectInvalidToken({ token: revoked.token })).toMatch(/revoked/);
      expect(await expectInvalidToken({ cookie: `access_token=${revoked.token}` })).toMatch(
        /revoked/,
      );
      expect((await call(url, '/me', { token: other.token })).status).toBe(200);
    });

    it('revokes a token whose exp is fractional (RFC 7519 §2 NumericDate)', async () => {
      const iat = Date.now() / 1000;
      const token = sign(
        { sub: 'frank', jti: freshJti(), iat, exp: Math.floor(iat) + 60.0005 },
        TEST_JWT_SECRET,
        { algorithm: 'HS256' },
      );
      expect((await call(url, '/me', { token })).status).toBe(200);

      expect((await call(url, '/logout', { method: 'POST', token })).status).toBe(204);

      expect(await expectInvalidToken({ token })).toMatch(/revoked/);
    });

    it('answers a second logout of the same token with 401', async () => {
      const { token } = signFor('bob');
      expect((await call(url, '/logout', { method: 'POST', token })).status).toBe(204);
      expect((await call(url, '/logout', { method: 'POST', token })).status).toBe(401);
    });
  });

  describe('when a session ends', () => {
    it('answers /me with the sid of a token that has one', async () => {
      const sid = freshJti();
      const { token } = tokens.sign('kim', { sid });
      const response = await call(url, '/me', { token });
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ sub: 'kim', sid });
    });

    it('rejects a token whose sid is malformed as an invalid token', async () => {
      const iat = Date.now() / 1000;
      const token = sign(
        { sub: 'kim', jti: freshJti(), iat, exp: Math.floor(iat) + 60, sid: 'not a sid' },
        TEST_JWT_SECRET,
        { algorithm: 'HS256' },
      );
      expect(await expectInvalidToken({ token })).toMatch(/sid/);
    });

    it('rejects every token of the session at once, and returns a receipt of kind session', async () => {
      const sid = freshJti();
      const first = tokens.sign('lee', { sid });
      const second = tokens.sign('lee', { sid });
      const elsewhere = tokens.sign('lee', { sid: freshJti() });
      const before = Date.now();

      const receipt = await running.app.get(RevocationService).revokeSession(sid, {
        reason: 'test',
      });

      expect(receipt).toMatchObject({ kind: 'session', id: sid });
      expect(receipt.atMs).toBeGreaterThanOrEqual(before);
      // At least as long as the last token the session issued can live (60 s here).
      expect(receipt.expiresAtMs).toBeGreaterThanOrEqual(receipt.atMs + 60_000);
      expect(await expectInvalidToken({ token: first.token })).toMatch(/revoked/);
      expect(await expectInvalidToken({ token: second.token })).toMatch(/revoked/);
      expect((await call(url, '/me', { token: elsewhere.token })).status).toBe(200);
      // A repeat is harmless and still answers with a receipt.
      await expect(running.app.get(RevocationService).revokeSession(sid)).resolves.toMatchObject({
        kind: 'session',
        id: sid,
      });
    });

    it('refuses a sid that is not a revocation id', async () => {
      const service = running.app.get(RevocationService);
      for (const sid of ['', 'a b', 'x'.repeat(257)]) {
        await expect(service.revokeSession(sid)).rejects.toThrow(InvalidInputError);
      }
    });

    it('applies a revocation another script recorded (recorded), before it returns', async () => {
      const service = running.app.get(RevocationService);
      const sid = freshJti();
      const { token } = tokens.sign('mo', { sid });
      const revocation = service.sessionRevocation(sid);
      // As a session script would: the store records it, then the service applies it here.
      const event = await running.app.get(RevocationStore).revoke(revocation);
      const receipt = await service.recorded(revocation, event);
      expect(receipt).toMatchObject({ kind: 'session', id: sid, atMs: revocation.createdAtMs });
      expect(await expectInvalidToken({ token })).toMatch(/revoked/);
    });
  });

  describe('when the user logs out everywhere', () => {
    it('also revokes a token dated ahead by a clock within the tolerated skew', async () => {
      // Another replica's clock runs 500 ms ahead; the verifier accepts its tokens (skew 1 s).
      const ahead = Date.now() / 1000 + 0.5;
      const token = sign(
        { sub: 'erin', jti: freshJti(), iat: ahead, exp: Math.floor(ahead) + 60 },
        TEST_JWT_SECRET,
        { algorithm: 'HS256' },
      );
      expect((await call(url, '/me', { token })).status).toBe(200);

      const logoutAll = await call(url, '/logout-all', { method: 'POST', token });
      expect(logoutAll.status).toBe(204);

      expect(await expectInvalidToken({ token })).toMatch(/revoked/);
    });

    it('rejects every token issued before and accepts one issued right after, in the same second', async () => {
      // Start early in a second so that the whole sequence (logout-all waits out the tolerated
      // clock skew, 500 ms) fits in it.
      await waitUntil(() => Date.now() % 1000 < 300, {
        timeoutMs: 1500,
        intervalMs: 5,
        description: 'the start of a second',
      });
      const first = signFor('carol');
      const second = signFor('carol');
      const bystander = signFor('dave');

      const logoutAll = await call(url, '/logout-all', { method: 'POST', token: first.token });
      expect(logoutAll.status).toBe(204);
      const after = signFor('carol');

      expect(Math.floor(after.claims.iat)).toBe(Math.floor(first.claims.iat));
      expect(await expectInvalidToken({ token: first.token })).toMatch(/revoked/);
      expect(await expectInvalidToken({ token: second.token })).toMatch(/revoked/);
      const fresh = await call(url, '/me', { token: after.token });
      expect(fresh.status).toBe(200);
      expect(fresh.body).toMatchObject({ sub: 'carol', jti: after.claims.jti });
      expect((await call(url, '/me', { token: bystander.token })).status).toBe(200);
    });
  });
});

describe('RevocationModule.forRootAsync', () => {
  const TEST_CONFIG = Symbol('TEST_CONFIG');

  /** A stand-in for an application's config module. */
  function configModule(options: RevocationModuleOptions): DynamicModule {
    class TestConfigModule {}
    return {
      module: TestConfigModule,
      providers: [{ provide: TEST_CONFIG, useValue: options }],
      exports: [TEST_CONFIG],
    };
  }

  describe('with a factory reading an injected config', () => {
    const keyPrefix = uniqueKeyPrefix();
    let running: RunningTestApp;

    beforeAll(async () => {
      running = await startTestApp(
        'fastify',
        RevocationModule.forRootAsync({
          imports: [configModule(testModuleOptions(keyPrefix))],
          inject: [TEST_CONFIG],
          useFactory: async (options: RevocationModuleOptions) => options,
        }),
      );
    });

    afterAll(async () => {
      await running?.app.close();
      await deleteKeysWithPrefix(keyPrefix);
    });

    it('becomes ready and guards routes like forRoot()', async () => {
      await waitUntil(async () => (await readiness(running.url)).ready, {
        timeoutMs: 5000,
        description: 'the forRootAsync app to be ready',
      });
      const { token } = running.app.get(TokenService).sign('alice');
      expect((await call(running.url, '/me')).status).toBe(401);
      expect((await call(running.url, '/me', { token })).status).toBe(200);
      expect((await call(running.url, '/logout', { method: 'POST', token })).status).toBe(204);
      expect((await call(running.url, '/me', { token })).status).toBe(401);
    });
  });

  it('fails to create the app when the factory returns a bad value, naming the option', async () => {
    const module = RevocationModule.forRootAsync({
      useFactory: () => testModuleOptions(uniqueKeyPrefix(), { maxStalenessMs: -1 }),
    });
    await expect(startTestApp('express', module)).rejects.toThrow(/maxStalenessMs/);
  });
});
