import { createHmac, generateKeyPairSync } from 'node:crypto';
import { type NestFastifyApplication } from '@nestjs/platform-fastify';
import fc from 'fast-check';
import { RevocationSynchronizer } from '@rescind/revocation-core';
import { deleteKeysWithPrefix, uniqueKeyPrefix, waitFor as waitUntil } from '@rescind/testing';
import { type RunningTestApp, startTestApp, TEST_JWT_SECRET, testModuleOptions } from '../testing';
import { TokenService } from './token.service';

const b64 = (value: string | Buffer): string => Buffer.from(value).toString('base64url');

/** A compact JWS over arbitrary header and payload text, HMAC-signed with `secret`. */
function jws(header: string, payload: string, secret: string | Buffer = TEST_JWT_SECRET): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

function claims(extra: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Date.now() / 1000;
  return { sub: 'user-1', jti: 'jti-hostile-1', iat: now, exp: Math.floor(now) + 60, ...extra };
}

const HS256 = JSON.stringify({ alg: 'HS256', typ: 'JWT' });

describe('hostile tokens', () => {
  const keyPrefix = uniqueKeyPrefix();
  let running: RunningTestApp;
  let tokens: TokenService;

  /** GET /me through Fastify's in-process injection: no sockets, fast enough for properties. */
  async function statusOf(headers: Record<string, string>): Promise<number> {
    const fastify = (running.app as NestFastifyApplication).getHttpAdapter().getInstance();
    const response = await fastify.inject({ method: 'GET', url: '/me', headers });
    return response.statusCode;
  }

  beforeAll(async () => {
    running = await startTestApp('fastify', testModuleOptions(keyPrefix));
    tokens = running.app.get(TokenService);
    // Ready: which includes a fresh data set's not-before lying a second behind, so that the
    // tokens forged below with the current time are not revoked by it.
    const sync = running.app.get(RevocationSynchronizer);
    await waitUntil(() => sync.isReady(), {
      timeoutMs: 20_000,
      description: 'the app to be ready',
    });
    // Jest's default of 5 s is too short for an app's start on a machine whose cores are busy.
  }, 30_000);

  afterAll(async () => {
    await running.app.close();
    await deleteKeysWithPrefix(keyPrefix);
  });

  describe('when any string is presented as a token', () => {
    // Header values cannot carry control characters; everything else is fair game.
    const headerSafe = fc
      .string({ unit: 'binary', maxLength: 600 })
      .map((s) => [...s].filter((c) => c >= ' ' && c <= '~').join(''));
    const jwtShaped = fc
      .tuple(fc.json(), fc.json(), fc.string({ maxLength: 60 }))
      .map(([header, payload, signature]) => `${b64(header)}.${b64(payload)}.${b64(signature)}`);
    const mutatedValid = fc
      .tuple(fc.nat(), fc.constantFrom(...'AZaz09-_.='.split('')))
      .map(([at, char]) => {
        const token = tokens.sign('user-2').token;
        const i = at % token.length;
        return token.slice(0, i) + char + token.slice(i + 1);
      });
    const anyToken = fc.oneof(headerSafe, jwtShaped, mutatedValid);

    it('answers 200 (only for a token that verifies) or 401, never anything else', async () => {
      await fc.assert(
        fc.asyncProperty(
          anyToken,
          fc.constantFrom('bearer', 'raw', 'cookie'),
          async (token, placement) => {
            const headers: Record<string, string> =
              placement === 'bearer'
                ? { authorization: `Bearer ${token}` }
                : placement === 'raw'
                  ? { authorization: token }
                  : { cookie: `access_token=${token}` };
            const status = await statusOf(headers);
            if (status === 200) expect(() => tokens.verify(token)).not.toThrow();
            else expect(status).toBe(401);
          },
        ),
        { numRuns: 400 },
      );
      // 400 requests take about a second on an idle machine; several with both cores busy.
    }, 30_000);
  });

  describe('when a token is forged or odd', () => {
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const publicPem = publicKey.export({ type: 'spki', format: 'pem' }) as string;

    it.each<[string, () => string]>([
      ['alg none', () => `${b64('{"alg":"none","typ":"JWT"}')}.${b64(JSON.stringify(claims()))}.`],
      [
        'RS256 header verified as HMAC with the public key (HS/RS confusion)',
        () => jws('{"alg":"RS256","typ":"JWT"}', JSON.stringify(claims()), publicPem),
      ],
      ['HS256 signed with the public key', () => jws(HS256, JSON.stringify(claims()), publicPem)],
      ['a wrong key', () => jws(HS256, JSON.stringify(claims()), 'y'.repeat(32))],
      ['a missing jti', () => jws(HS256, JSON.stringify(claims({ jti: undefined })))],
      ['a numeric jti', () => jws(HS256, JSON.stringify(claims({ jti: 12345 })))],
      ['an object jti', () => jws(HS256, JSON.stringify(claims({ jti: { a: 1 } })))],
      ['a missing exp', () => jws(HS256, JSON.stringify(claims({ exp: undefined })))],
      ['a numeric sid', () => jws(HS256, JSON.stringify(claims({ sid: 12345 })))],
      ['a null sid', () => jws(HS256, JSON.stringify(claims({ sid: null })))],
      ['an empty sid', () => jws(HS256, JSON.stringify(claims({ sid: '' })))],
      ['a sid with a space', () => jws(HS256, JSON.stringify(claims({ sid: 'a b' })))],
      ['a sid too long', () => jws(HS256, JSON.stringify(claims({ sid: 's'.repeat(257) })))],
      ['an object sid', () => jws(HS256, JSON.stringify(claims({ sid: { a: 1 } })))],
      [
        'an exp beyond the maximum lifetime',
        () => jws(HS256, JSON.stringify(claims({ exp: Math.floor(Date.now() / 1000) + 86_400 }))),
      ],
      [
        'an nbf in the future',
        () => jws(HS256, JSON.stringify(claims({ nbf: Math.floor(Date.now() / 1000) + 600 }))),
      ],
      [
        'an iat in the future',
        () => jws(HS256, JSON.stringify(claims({ iat: Date.now() / 1000 + 600 }))),
      ],
      ['huge claims', () => jws(HS256, JSON.stringify(claims({ blob: 'x'.repeat(20_000) })))],
      [
        'a duplicated jti (JSON parsers disagree on which wins)',
        () => {
          const body = JSON.stringify(claims());
          return jws(HS256, body.replace('{', '{"jti":"someone-else",'));
        },
      ],
      [
        'a critical header extension',
        () => jws('{"alg":"HS256","typ":"JWT","crit":["exp"]}', JSON.stringify(claims())),
      ],
      ['a payload that is not JSON', () => jws(HS256, 'not json')],
      ['a payload that is a string', () => jws(HS256, '"just a string"')],
    ])('rejects %s with 401', async (_label, make) => {
      expect(await statusOf({ authorization: `Bearer ${make()}` })).toBe(401);
    });

    it('accepts the well-formed control token, so the cases above fail for their own reason', async () => {
      expect(
        await statusOf({ authorization: `Bearer ${jws(HS256, JSON.stringify(claims()))}` }),
      ).toBe(200);
      const withSid = jws(HS256, JSON.stringify(claims({ sid: 'Q2hhbmdlIHRoaXMgc2lk' })));
      expect(await statusOf({ authorization: `Bearer ${withSid}` })).toBe(200);
    });
  });
});
