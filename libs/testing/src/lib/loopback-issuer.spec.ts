import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { LoopbackIssuer } from './loopback-issuer';

async function getJson(url: string): Promise<[number, Record<string, unknown>]> {
  const response = await fetch(url);
  return [response.status, (await response.json()) as Record<string, unknown>];
}

describe('LoopbackIssuer', () => {
  const openid = new LoopbackIssuer({ clientId: 'client-1' });
  const ssf = new LoopbackIssuer({ metadata: 'ssf', path: 'tenant', audience: 'receiver' });

  beforeAll(() => Promise.all([openid.start(), ssf.start()]));
  afterAll(() => Promise.all([openid.stop(), ssf.stop()]));
  beforeEach(() => {
    openid.reset();
    ssf.reset();
  });

  it('serves OpenID discovery at the issuer and SSF metadata before its path', async () => {
    expect(openid.metadataUrl).toBe(`${openid.issuer}/.well-known/openid-configuration`);
    expect(await getJson(openid.metadataUrl)).toEqual([
      200,
      { issuer: openid.issuer, jwks_uri: `${openid.issuer}/jwks` },
    ]);
    const origin = new URL(ssf.issuer).origin;
    expect(ssf.issuer).toBe(`${origin}/tenant`);
    expect(ssf.metadataUrl).toBe(`${origin}/.well-known/ssf-configuration/tenant`);
    expect(await getJson(ssf.metadataUrl)).toEqual([
      200,
      expect.objectContaining({ spec_version: '1_0', issuer: ssf.issuer, jwks_uri: ssf.jwksUri }),
    ]);
    expect((await getJson(`${origin}/.well-known/openid-configuration`))[0]).toBe(404);
    openid.metadataOverrides = { issuer: 'https://evil.example' };
    expect((await getJson(openid.metadataUrl))[1]['issuer']).toBe('https://evil.example');
  });

  it('publishes, unpublishes and fails its JWKS, counting the fetches', async () => {
    await openid.addKey('a', 'ES256');
    await openid.addKey('b', 'RS256', false);
    const kids = async () =>
      ((await getJson(openid.jwksUri))[1]['keys'] as { kid: string }[]).map((key) => key.kid);
    expect(await kids()).toEqual(['a']);
    openid.publish('b');
    expect(await kids()).toEqual(['a', 'b']);
    openid.unpublish('a');
    expect(await kids()).toEqual(['b']);
    openid.failing = true;
    expect((await getJson(openid.jwksUri))[0]).toBe(503);
    expect(openid.jwksFetches).toBe(4);
  });

  it('signs each kind of token with its type, defaults and overrides', async () => {
    await openid.addKey('ec', 'ES256');
    await ssf.addKey('ed', 'EdDSA');
    const verify = async (issuer: LoopbackIssuer, token: string) =>
      (
        await jwtVerify(token, createLocalJWKSet({ keys: [issuer.key(kidOf(token)).jwk] }), {
          typ: decodeProtectedHeader(token).typ,
        })
      ).payload;
    const kidOf = (token: string): string => decodeProtectedHeader(token).kid ?? '';

    const access = await openid.sign('ec', { sub: 'bob', client_id: undefined });
    expect(decodeProtectedHeader(access)).toEqual({ alg: 'ES256', kid: 'ec', typ: 'at+jwt' });
    const claims = await verify(openid, access);
    expect(claims).toMatchObject({ iss: openid.issuer, aud: ['rescind-api', 'other-api'] });
    expect(claims).toMatchObject({ sub: 'bob', jti: expect.stringMatching(/^at-/) });
    expect(claims).not.toHaveProperty('client_id');

    const logout = await openid.signLogoutToken('ec', { sid: 's-1' });
    expect(decodeProtectedHeader(logout).typ).toBe('logout+jwt');
    expect(await verify(openid, logout)).toMatchObject({ aud: 'client-1', sid: 's-1' });

    const set = await ssf.signSet('ed', { 'urn:example:event': {} }, {}, { typ: 'JWT' });
    expect(decodeProtectedHeader(set)).toEqual({ alg: 'EdDSA', kid: 'ed', typ: 'JWT' });
    expect(await verify(ssf, set)).toMatchObject({ iss: ssf.issuer, aud: 'receiver' });

    const text = await openid.signText('ec', '{"sid":"a","sid":"b"}');
    expect(Buffer.from(text.split('.')[1] ?? '', 'base64url').toString()).toBe(
      '{"sid":"a","sid":"b"}',
    );
  });

  it('refuses to sign with a key it does not hold', async () => {
    await expect(async () => openid.sign('nope')).rejects.toThrow('no key nope');
    expect(() => openid.publish('nope')).toThrow('no key nope');
  });
});
