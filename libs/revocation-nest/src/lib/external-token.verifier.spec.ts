import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { type CryptoKey, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { TokenInvalidError } from '@rescind/revocation-core';
import { ExternalTokenVerifier } from './external-token.verifier';
import { resolveRevocationOptions } from './revocation-module-options';

const AUDIENCE = 'api';

describe('ExternalTokenVerifier', () => {
  let server: Server;
  let issuer: string;
  let privateKey: CryptoKey;
  let jwk: JWK;

  beforeAll(async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    privateKey = pair.privateKey;
    jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k', alg: 'ES256' };
    server = createServer((request, response) => {
      response.setHeader('content-type', 'application/json');
      response.end(
        JSON.stringify(
          request.url === '/.well-known/openid-configuration'
            ? { issuer, jwks_uri: `${issuer}/jwks` }
            : { keys: [jwk] },
        ),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  function verifier(options: { tokenIdClaim?: string } = {}): ExternalTokenVerifier {
    const resolved = resolveRevocationOptions(
      {
        redis: 'redis://127.0.0.1:6379',
        jwtSecret: 'x'.repeat(32),
        externalIssuers: [{ issuer, audience: AUDIENCE, ...options }],
      },
      'host',
    );
    return new ExternalTokenVerifier(
      resolved.externalIssuers[0]!,
      { now: () => Date.now() },
      resolved,
    );
  }

  function sign(claims: Record<string, unknown>): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ sub: 'alice', ...claims })
      .setProtectedHeader({ alg: 'ES256', kid: 'k', typ: 'at+jwt' })
      .setIssuer(issuer)
      .setAudience(AUDIENCE)
      .setIssuedAt(now)
      .setExpirationTime(now + 300)
      .sign(privateKey);
  }

  it('revokes by jti, namespaced', async () => {
    const claims = await verifier().verify(await sign({ jti: 'at-1', uti: 'u-1' }));
    expect(claims.jti).toMatch(/^~[A-Za-z0-9_-]{8}~at-1$/);
  });

  it('revokes by the configured token id claim (Entra names it uti)', async () => {
    const claims = await verifier({ tokenIdClaim: 'uti' }).verify(await sign({ uti: 'u-1' }));
    expect(claims.jti).toMatch(/^~[A-Za-z0-9_-]{8}~u-1$/);
  });

  it('refuses a token without the configured claim, naming it', async () => {
    const rejection = verifier({ tokenIdClaim: 'uti' }).verify(await sign({ jti: 'at-1' }));
    await expect(rejection).rejects.toThrow(TokenInvalidError);
    await expect(rejection).rejects.toThrow('The access token has no valid uti');
  });
});
