import { createHmac } from 'node:crypto';
import { JwtService } from '@nestjs/jwt';
import {
  InvalidInputError,
  RevocationCache,
  RevocationVerdict,
  TokenInvalidError,
} from '@rescind/revocation-core';
import {
  resolveRevocationOptions,
  type RevocationModuleOptions,
} from './revocation-module-options';
import { keyId, TokenService } from './token.service';

const OLD = 'o'.repeat(32);
const NEW = 'n'.repeat(32);

function tokens(options: Partial<RevocationModuleOptions>): TokenService {
  const resolved = resolveRevocationOptions(
    { redis: 'redis://127.0.0.1:6379', jwtSecret: NEW, accessTokenTtlSeconds: 60, ...options },
    'test',
  );
  return new TokenService(resolved, resolved.clock);
}

function header(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[0] as string, 'base64url').toString());
}

describe('TokenService', () => {
  describe('before the replica has read the store once (a new or emptied store)', () => {
    const resolved = resolveRevocationOptions({ redis: 'redis://x', jwtSecret: NEW }, 'test');

    it('waits for that read, so that a not-before it learns does not revoke the token at birth', async () => {
      const cache = new RevocationCache({ maxEntries: 10 });
      const sync = { hydrated: false };
      const service = new TokenService(resolved, resolved.clock, cache, sync);
      let notBeforeMs = 0;
      setTimeout(() => {
        // What the first read does: the store's not-before, set ahead when it was created.
        notBeforeMs = Date.now() + 100;
        cache.raiseNotBefore(notBeforeMs);
        sync.hydrated = true;
      }, 100);

      const { claims } = await service.issue('user-1');

      expect(notBeforeMs).toBeGreaterThan(0);
      expect(claims.iatMs).toBeGreaterThan(notBeforeMs);
      expect(cache.check(claims, Date.now())).toBe(RevocationVerdict.Accepted);
    });

    it('answers "not in sync" (503) rather than wait for ever when the read does not come', async () => {
      const service = new TokenService(resolved, resolved.clock, undefined, { hydrated: false });
      await expect(service.issue('user-1')).rejects.toMatchObject({ code: 'ERR_NOT_IN_SYNC' });
    });
  });

  describe('when the store-wide not-before is still ahead of the clock (just after a store loss)', () => {
    it('issues once the clock has passed it, so that the token is not born revoked', async () => {
      const cache = new RevocationCache({ maxEntries: 10 });
      const notBeforeMs = Date.now() + 200;
      cache.raiseNotBefore(notBeforeMs);
      const resolved = resolveRevocationOptions({ redis: 'redis://x', jwtSecret: NEW }, 'test');
      const service = new TokenService(resolved, resolved.clock, cache);

      const { claims } = await service.issue('user-1');

      expect(claims.iatMs).toBeGreaterThan(notBeforeMs);
      expect(claims.iatMs).toBeLessThanOrEqual(Date.now());
      expect(cache.check(claims, Date.now())).toBe(RevocationVerdict.Accepted);
    });
  });

  describe('when it signs', () => {
    it('names the key with a kid derived from it, and pins the algorithm', () => {
      const { token } = tokens({}).sign('user-1');
      const current = resolveRevocationOptions(
        { redis: 'redis://x', jwtSecret: NEW },
        'test',
      ).jwtKey;
      expect(header(token)).toEqual({ alg: 'HS256', typ: 'JWT', kid: keyId(current) });
    });

    it('issues a 128-bit jti and a millisecond iat', () => {
      const { claims } = tokens({}).sign('user-1');
      expect(Buffer.from(claims.jti, 'base64url')).toHaveLength(16);
      expect(Number.isInteger(claims.iat * 1000)).toBe(true);
    });
  });

  describe('when a token carries a session (sid)', () => {
    const service = tokens({});
    /** A token signed with the service's key, with `sid` as given (bypassing sign's check). */
    function withSid(sid: unknown): string {
      const now = Date.now() / 1000;
      const body = JSON.stringify({ sub: 'u', jti: 'j', iat: now, exp: Math.floor(now) + 30, sid });
      const input = `${Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url')}.${Buffer.from(body).toString('base64url')}`;
      return `${input}.${createHmac('sha256', NEW).update(input).digest('base64url')}`;
    }

    it('signs it and hands it back among the checked claims', () => {
      const { token, claims } = service.sign('user-1', { sid: 'c2Vzc2lvbi1pZC0xMjM0NQ' });
      expect(claims.sid).toBe('c2Vzc2lvbi1pZC0xMjM0NQ');
      expect(service.verifyOwn(token).sid).toBe('c2Vzc2lvbi1pZC0xMjM0NQ');
    });

    it('accepts a token without one (issued before sessions), with no sid in its claims', () => {
      const claims = service.verifyOwn(service.sign('user-1').token);
      expect(claims.sid).toBeUndefined();
      expect('sid' in claims).toBe(false);
    });

    it.each<[string, unknown]>([
      ['a number', 12345],
      ['null', null],
      ['empty', ''],
      ['with a space', 'a b'],
      ['with a control character', 'a\u0001b'],
      ['257 characters', 's'.repeat(257)],
      ['an object', { a: 1 }],
    ])('rejects a sid that is %s: the token is invalid', (_what, sid) => {
      expect(() => service.verifyOwn(withSid(sid))).toThrow(
        expect.objectContaining({ message: 'The access token has no valid sid' }),
      );
      expect(() => service.verifyOwn(withSid(sid))).toThrow(TokenInvalidError);
    });

    it('accepts a sid of 256 printable characters, the longest revocation id', () => {
      expect(service.verifyOwn(withSid('!'.repeat(256))).sid).toBe('!'.repeat(256));
    });

    it("rejects a sid starting with ~, the namespace of external issuers' ids", () => {
      expect(() => service.verifyOwn(withSid('~abcdefgh~s'))).toThrow(
        expect.objectContaining({
          message: 'The access token has an id reserved for external issuers',
        }),
      );
    });

    it('refuses to sign a sid no verifier would accept', () => {
      expect(() => service.sign('user-1', { sid: 'a b' })).toThrow(InvalidInputError);
      expect(() => service.sign('user-1', { sid: 7 })).toThrow(InvalidInputError);
    });
  });

  describe('when the signing key was rotated', () => {
    const before = tokens({ jwtSecret: OLD });
    const after = tokens({ jwtSecret: NEW, jwtPreviousSecrets: [OLD] });
    const afterWithoutOld = tokens({ jwtSecret: NEW });

    it('still accepts tokens signed with a previous key', () => {
      const { token, claims } = before.sign('user-1');
      expect(after.verifyOwn(token).jti).toBe(claims.jti);
    });

    it('accepts tokens signed with the current key', () => {
      const { token } = after.sign('user-2');
      expect(after.verifyOwn(token).sub).toBe('user-2');
    });

    it('rejects tokens of a key that is no longer listed', () => {
      const { token } = before.sign('user-1');
      expect(() => afterWithoutOld.verifyOwn(token)).toThrow(TokenInvalidError);
    });

    it('rejects a token whose kid names one key but was signed with another', () => {
      const { token } = before.sign('user-1');
      const [, payload, signature] = token.split('.');
      const forgedHeader = Buffer.from(
        JSON.stringify({ ...header(token), kid: header(after.sign('x').token)['kid'] }),
      ).toString('base64url');
      expect(() => after.verifyOwn(`${forgedHeader}.${payload}.${signature}`)).toThrow(
        TokenInvalidError,
      );
    });
  });

  describe('when a claim value spells a claim name', () => {
    /** A token over `payload` text as given, signed with the current key. */
    function signedText(payload: string): string {
      const key = resolveRevocationOptions({ redis: 'redis://x', jwtSecret: NEW }, 'test').jwtKey;
      const input = `${Buffer.from('{"alg":"HS256","typ":"JWT"}').toString('base64url')}.${Buffer.from(payload).toString('base64url')}`;
      return `${input}.${createHmac('sha256', key.export()).update(input).digest('base64url')}`;
    }

    it.each(['sub', 'exp', 'jti', 'iat', 'nbf'])(
      'accepts the tokens of a user named %s, and of one whose nested claim repeats a name',
      (username) => {
        const service = tokens({});
        const { token } = service.sign('user-1', { username, profile: { sub: 'x', jti: 'y' } });
        expect(service.verifyOwn(token)).toMatchObject({ sub: 'user-1', username });
      },
    );

    it('still rejects a repeated claim, however its name is escaped', () => {
      const now = Date.now() / 1000;
      const claims = `"sub":"user-1","jti":"j-1","iat":${now},"exp":${Math.floor(now) + 30}`;
      const service = tokens({});
      expect(() => service.verifyOwn(signedText(`{${claims}}`))).not.toThrow();
      for (const repeat of [
        '"sub":"user-2"',
        '"s\\u0075b":"user-2"',
        '"username":"a","username":"b"',
      ]) {
        expect(() => service.verifyOwn(signedText(`{${claims},${repeat}}`))).toThrow(
          TokenInvalidError,
        );
      }
    });
  });

  describe('when a token is presented again', () => {
    let jsonwebtoken: jest.SpyInstance;

    beforeEach(() => {
      jsonwebtoken = jest.spyOn(JwtService.prototype, 'verify');
    });

    afterEach(() => jsonwebtoken.mockRestore());

    it('answers from the verified tokens, with the same frozen claims', () => {
      const service = tokens({});
      const { token } = service.sign('user-1');
      const first = service.verifyOwn(token);
      expect(service.verifyOwn(token)).toBe(first);
      expect(Object.isFrozen(first)).toBe(true);
      expect(jsonwebtoken).toHaveBeenCalledTimes(1);
    });

    it('still rejects it once it expired', () => {
      let nowMs = Date.now();
      const service = tokens({ clock: { now: () => nowMs } });
      const { token, claims } = service.sign('user-1');
      service.verifyOwn(token);
      nowMs = claims.exp * 1000;
      expect(() => service.verifyOwn(token)).toThrow(
        expect.objectContaining({ message: 'The access token expired' }),
      );
      expect(jsonwebtoken).toHaveBeenCalledTimes(1);
    });

    it('never remembers a token that failed', () => {
      const service = tokens({});
      const { token } = service.sign('user-1');
      const forged = `${token.slice(0, -2)}${token.endsWith('AA') ? 'BB' : 'AA'}`;
      expect(() => service.verifyOwn(forged)).toThrow(TokenInvalidError);
      expect(() => service.verifyOwn(forged)).toThrow(TokenInvalidError);
      expect(jsonwebtoken).toHaveBeenCalledTimes(2);
      service.verifyOwn(token);
      expect(() => service.verifyOwn(forged)).toThrow(TokenInvalidError);
    });

    it('verifies every time with verifiedTokenCacheMax 0', () => {
      const service = tokens({ verifiedTokenCacheMax: 0 });
      const { token } = service.sign('user-1');
      service.verifyOwn(token);
      service.verifyOwn(token);
      expect(jsonwebtoken).toHaveBeenCalledTimes(2);
    });

    it('remembers at most verifiedTokenCacheMax tokens, the least recently used going first', () => {
      const service = tokens({ verifiedTokenCacheMax: 2 });
      const [a, b, c] = ['a', 'b', 'c'].map((sub) => service.sign(sub).token) as [
        string,
        string,
        string,
      ];
      for (const token of [a, b, c, b, c]) service.verifyOwn(token);
      expect(jsonwebtoken).toHaveBeenCalledTimes(3);
      service.verifyOwn(a);
      expect(jsonwebtoken).toHaveBeenCalledTimes(4);
    });
  });
});
