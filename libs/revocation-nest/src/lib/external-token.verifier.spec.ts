import { TokenInvalidError } from '@rescind/revocation-core';
import { LoopbackIssuer } from '@rescind/testing';
import { ExternalTokenVerifier } from './external-token.verifier';
import { resolveRevocationOptions } from './revocation-module-options';

const AUDIENCE = 'api';

describe('ExternalTokenVerifier', () => {
  const provider = new LoopbackIssuer({ audience: AUDIENCE });

  beforeAll(async () => {
    await provider.start();
    await provider.addKey('k', 'ES256');
  });

  afterAll(() => provider.stop());

  function verifier(options: { tokenIdClaim?: string } = {}): ExternalTokenVerifier {
    const resolved = resolveRevocationOptions(
      {
        redis: 'redis://127.0.0.1:6379',
        jwtSecret: 'x'.repeat(32),
        externalIssuers: [{ issuer: provider.issuer, audience: AUDIENCE, ...options }],
      },
      'host',
    );
    return new ExternalTokenVerifier(
      resolved.externalIssuers[0]!,
      { now: () => Date.now() },
      resolved,
    );
  }

  const sign = (claims: Record<string, unknown>): Promise<string> => provider.sign('k', claims);

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
