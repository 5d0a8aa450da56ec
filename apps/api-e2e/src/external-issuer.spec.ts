import { createHash } from 'node:crypto';
import { ApiClient, TestCluster, waitFor } from '@rescind/testing';
import { signHmac, unsecuredJwt } from './support/jwt-forge';
import { TestIssuer } from './support/test-issuer';

const AUDIENCE = 'rescind-api';

describe("an external OpenID issuer's access tokens", () => {
  const provider = new TestIssuer();
  let cluster: TestCluster;
  let replicas: ApiClient[];
  /** The namespace of the provider's ids (docs/design.md, "External issuers"). */
  let prefix: string;

  beforeAll(async () => {
    await provider.start();
    await provider.addKey('rsa', 'RS256');
    await provider.addKey('ec', 'ES256');
    await provider.addKey('ed', 'EdDSA');
    prefix = `~${createHash('sha256').update(provider.issuer).digest('base64url').slice(0, 8)}~`;
    cluster = new TestCluster({
      suite: 'e2e',
      name: 'external-issuer',
      env: { OIDC_ISSUER: provider.issuer, OIDC_AUDIENCE: AUDIENCE, OIDC_CLIENT_ID: 'rescind' },
    });
    await cluster.start();
    replicas = cluster.urls.map((url) => new ApiClient(url));
  });

  afterAll(async () => {
    await cluster?.stop();
    await provider.stop();
  });

  function statuses(token: string): Promise<number[]> {
    return Promise.all(replicas.map((client) => client.meStatus(token)));
  }

  it.each(['rsa', 'ec', 'ed'])(
    'are accepted on every replica, signed with the %s key',
    async (kid) => {
      const token = await provider.sign(kid);
      expect(await statuses(token)).toEqual([200, 200, 200]);
      const me = await (replicas[0] as ApiClient).me(token);
      // The provider's ids come namespaced by its tag, so they collide with no one else's.
      expect(me.json).toMatchObject({ sub: `${prefix}alice` });
      expect(String(me.json?.['jti']).startsWith(`${prefix}at-`)).toBe(true);
    },
  );

  it('are accepted with typ JWT or none, RFC 9068 at+jwt being the usual one', async () => {
    expect(await statuses(await provider.sign('ec', {}, { typ: 'JWT' }))).toEqual([200, 200, 200]);
    expect(await statuses(await provider.sign('ec', {}, { typ: undefined }))).toEqual([
      200, 200, 200,
    ]);
  });

  describe('are refused with 401 and an RFC 6750 challenge when', () => {
    const now = (): number => Math.floor(Date.now() / 1000);
    it.each<[string, () => Promise<string>]>([
      ['another issuer names itself', () => provider.sign('ec', { iss: 'https://evil.example' })],
      [
        'the issuer is ours but a path longer',
        () => provider.sign('ec', { iss: `${provider.issuer}/x` }),
      ],
      ['meant for another audience', () => provider.sign('ec', { aud: 'another-api' })],
      ['expired', () => provider.sign('ec', { iat: now() - 600, exp: now() - 300 })],
      ['not valid yet', () => provider.sign('ec', { nbf: now() + 600 })],
      ['issued in the future', () => provider.sign('ec', { iat: now() + 600, exp: now() + 900 })],
      ['outliving ACCESS_TOKEN_TTL', () => provider.sign('ec', { exp: now() + 86_400 })],
      ['of another type (a logout token)', () => provider.sign('ec', {}, { typ: 'logout+jwt' })],
      [
        'a logout token typed JWT (RFC 8417 §4.3: its events claim)',
        () =>
          provider.sign(
            'ec',
            { events: { 'http://schemas.openid.net/event/backchannel-logout': {} } },
            { typ: 'JWT' },
          ),
      ],
      ['without jti', () => provider.sign('ec', { jti: undefined })],
      ['with a sub that is no revocation id', () => provider.sign('ec', { sub: 'a b' })],
      [
        'unsecured (alg: none)',
        async () =>
          unsecuredJwt({
            iss: provider.issuer,
            aud: AUDIENCE,
            sub: 'alice',
            jti: 'n',
            iat: now(),
            exp: now() + 60,
          }),
      ],
      [
        "HS256 with the provider's public key as the secret",
        async () =>
          signHmac(
            {
              iss: provider.issuer,
              aud: AUDIENCE,
              sub: 'alice',
              jti: 'h',
              iat: now(),
              exp: now() + 60,
            },
            await provider.publicPem('rsa'),
            'HS256',
            { kid: 'rsa', typ: 'at+jwt' },
          ),
      ],
      [
        'its signature is tampered with',
        async () => {
          const token = await provider.sign('rsa');
          return `${token.slice(0, -4)}${token.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`;
        },
      ],
    ])('%s', async (_what, forge) => {
      const token = await forge();
      for (const client of replicas) {
        const answer = await client.me(token);
        expect(answer.status).toBe(401);
        expect(answer.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
        expect(answer.json).toMatchObject({ error: expect.any(String) });
      }
    });
  });

  it('logout revokes the token on every replica, and only that token', async () => {
    const [a, b, c] = replicas as [ApiClient, ApiClient, ApiClient];
    const token = await provider.sign('ec', { sid: 'provider-session-1' });
    const sibling = await provider.sign('ec', { sid: 'provider-session-1' });
    expect(await statuses(token)).toEqual([200, 200, 200]);
    await b.logout(token);
    for (const client of [a, b, c]) {
      await waitFor(async () => (await client.check(token)) === 'revoked', {
        timeoutMs: 5_000,
        description: `${client.baseUrl} rejects the logged-out external token`,
      });
    }
    expect(await statuses(sibling)).toEqual([200, 200, 200]);
  });

  it('a key rotated in is used without a restart', async () => {
    await provider.addKey('ec-2', 'ES256');
    expect(await statuses(await provider.sign('ec-2'))).toEqual([200, 200, 200]);
  });

  it('a failing JWKS endpoint never blocks the keys held', async () => {
    provider.failing = true;
    try {
      // An unknown kid makes each replica try a refetch, which fails...
      await provider.addKey('ed-2', 'EdDSA');
      expect(await statuses(await provider.sign('ed-2'))).toEqual([401, 401, 401]);
      // ...and the keys it holds still verify.
      for (const kid of ['rsa', 'ec', 'ed', 'ec-2']) {
        expect(await statuses(await provider.sign(kid))).toEqual([200, 200, 200]);
      }
    } finally {
      provider.failing = false;
    }
  });
});
