import { TokenInvalidError } from '@rescind/revocation-core';
import {
  resolveRevocationOptions,
  type RevocationModuleOptions,
} from './revocation-module-options';
import { keyId, TokenService } from './token.service';

const OLD = 'o'.repeat(32);
const NEW = 'n'.repeat(32);

function tokens(options: Partial<RevocationModuleOptions>): TokenService {
  return new TokenService(
    resolveRevocationOptions(
      { redisUrl: 'redis://127.0.0.1:6379', jwtSecret: NEW, accessTokenTtlSeconds: 60, ...options },
      'test',
    ),
  );
}

function header(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[0] as string, 'base64url').toString());
}

describe('TokenService', () => {
  describe('when it signs', () => {
    it('names the key with a kid derived from it, and pins the algorithm', () => {
      const { token } = tokens({}).sign('user-1');
      const current = resolveRevocationOptions(
        { redisUrl: 'redis://x', jwtSecret: NEW },
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

  describe('when the signing key was rotated', () => {
    const before = tokens({ jwtSecret: OLD });
    const after = tokens({ jwtSecret: NEW, jwtPreviousSecrets: [OLD] });
    const afterWithoutOld = tokens({ jwtSecret: NEW });

    it('still accepts tokens signed with a previous key', () => {
      const { token, claims } = before.sign('user-1');
      expect(after.verify(token).jti).toBe(claims.jti);
    });

    it('accepts tokens signed with the current key', () => {
      const { token } = after.sign('user-2');
      expect(after.verify(token).sub).toBe('user-2');
    });

    it('rejects tokens of a key that is no longer listed', () => {
      const { token } = before.sign('user-1');
      expect(() => afterWithoutOld.verify(token)).toThrow(TokenInvalidError);
    });

    it('rejects a token whose kid names one key but was signed with another', () => {
      const { token } = before.sign('user-1');
      const [, payload, signature] = token.split('.');
      const forgedHeader = Buffer.from(
        JSON.stringify({ ...header(token), kid: header(after.sign('x').token)['kid'] }),
      ).toString('base64url');
      expect(() => after.verify(`${forgedHeader}.${payload}.${signature}`)).toThrow(
        TokenInvalidError,
      );
    });
  });
});
