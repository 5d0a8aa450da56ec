import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { IssuerKeySet, openIdConfigurationUrl, ssfConfigurationUrl } from './issuer-key-set';

/** A discovery document and a JWKS on a loopback port, whose keys and health a test changes. */
class FakeIssuer {
  keys: JWK[] = [];
  failing = false;
  jwksFetches = 0;
  private server: Server | undefined;

  get issuer(): string {
    return `http://127.0.0.1:${(this.server?.address() as AddressInfo).port}`;
  }

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      if (request.url === '/.well-known/openid-configuration') {
        response.setHeader('content-type', 'application/json');
        response.end(JSON.stringify({ issuer: this.issuer, jwks_uri: `${this.issuer}/jwks` }));
        return;
      }
      this.jwksFetches += 1;
      if (this.failing) {
        response.statusCode = 503;
        response.end();
        return;
      }
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ keys: this.keys }));
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server?.close(() => resolve()));
  }
}

async function publicJwk(kid: string, alg: 'RS256' | 'ES256' | 'EdDSA'): Promise<JWK> {
  const { publicKey } = await generateKeyPair(alg, { extractable: true });
  return { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
}

describe('IssuerKeySet', () => {
  const fake = new FakeIssuer();
  let nowMs = 1_000_000;
  const keySet = (cooldownMs = 30_000): IssuerKeySet =>
    new IssuerKeySet({
      issuer: fake.issuer,
      cooldownMs,
      fetchTimeoutMs: 5_000,
      now: () => nowMs,
    });

  beforeAll(() => fake.start());
  afterAll(() => fake.stop());
  beforeEach(async () => {
    fake.keys = [await publicJwk('a', 'ES256')];
    fake.failing = false;
    fake.jwksFetches = 0;
  });

  it('finds a held key without fetching', async () => {
    const keys = keySet();
    await keys.refresh();
    expect(fake.jwksFetches).toBe(1);
    expect(await keys.key('a', 'ES256')).toBeDefined();
    expect(fake.jwksFetches).toBe(1);
  });

  it('refetches once for an unknown kid, then not again within the cooldown', async () => {
    const keys = keySet();
    await keys.refresh();
    // The warm-up fetch does not count: a key rotated in just after it is not held back.
    expect(await keys.key('unknown-1', 'ES256')).toBeUndefined();
    expect(await keys.key('unknown-2', 'ES256')).toBeUndefined();
    expect(fake.jwksFetches).toBe(2);
    nowMs += 30_000;
    expect(await keys.key('unknown-3', 'ES256')).toBeUndefined();
    expect(fake.jwksFetches).toBe(3);
  });

  it('picks up a rotated-in key without a restart', async () => {
    const keys = keySet();
    await keys.refresh();
    fake.keys = [...fake.keys, await publicJwk('b', 'RS256')];
    expect(await keys.key('b', 'RS256')).toBeDefined();
    expect(await keys.key('a', 'ES256')).toBeDefined();
  });

  it('keeps the keys it holds when the endpoint fails', async () => {
    const errors: unknown[] = [];
    const keys = new IssuerKeySet({
      issuer: fake.issuer,
      cooldownMs: 0,
      fetchTimeoutMs: 5_000,
      onError: (error) => errors.push(error),
    });
    await keys.refresh();
    fake.failing = true;
    expect(await keys.key('unknown', 'ES256')).toBeUndefined();
    expect(errors).toHaveLength(1);
    expect(await keys.key('a', 'ES256')).toBeDefined();
    expect(keys.size).toBe(1);
  });

  it('never hands out a key for an algorithm it does not fit', async () => {
    const keys = keySet();
    await keys.refresh();
    expect(await keys.key('a', 'RS256')).toBeUndefined();
    expect(await keys.key('a', 'EdDSA')).toBeUndefined();
  });

  it('takes the only fitting key for a token without kid', async () => {
    fake.keys = [await publicJwk('a', 'ES256'), await publicJwk('b', 'EdDSA')];
    const keys = keySet();
    await keys.refresh();
    expect(await keys.key(undefined, 'EdDSA')).toBeDefined();
  });

  it('refuses a discovery document naming another issuer, and never rejects', async () => {
    const errors: unknown[] = [];
    const keys = new IssuerKeySet({
      issuer: `${fake.issuer}/other`,
      cooldownMs: 0,
      fetchTimeoutMs: 5_000,
      onError: (error) => errors.push(error),
    });
    await keys.refresh();
    expect(keys.size).toBe(0);
    expect(errors).toHaveLength(1);
  });

  it('picks up a key added at the issuer by its periodic refresh, with no token waiting', async () => {
    const keys = keySet();
    await keys.refresh();
    fake.keys = [...fake.keys, await publicJwk('b', 'ES256')];
    keys.startRefreshing(20);
    try {
      const deadline = Date.now() + 5_000;
      while (keys.size < 2 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      const fetches = fake.jwksFetches;
      expect(await keys.key('b', 'ES256')).toBeDefined();
      expect(fake.jwksFetches).toBe(fetches);
    } finally {
      keys.stop();
    }
  });

  it('finds its metadata where it is told to', async () => {
    const errors: unknown[] = [];
    const keys = new IssuerKeySet({
      issuer: fake.issuer,
      metadataUrl: `${fake.issuer}/.well-known/ssf-configuration`,
      cooldownMs: 0,
      fetchTimeoutMs: 5_000,
      onError: (error) => errors.push(error),
    });
    await keys.refresh();
    // The fake answers that path with its JWKS, which names no issuer: never taken for metadata.
    expect(keys.size).toBe(0);
    expect(String(errors[0])).toContain('names another issuer');
  });

  it('places the metadata documents as their specifications say', () => {
    expect(openIdConfigurationUrl('https://id.example/realms/a/')).toBe(
      'https://id.example/realms/a/.well-known/openid-configuration',
    );
    expect(ssfConfigurationUrl('https://ssf.example/tenant/1')).toBe(
      'https://ssf.example/.well-known/ssf-configuration/tenant/1',
    );
    expect(ssfConfigurationUrl('https://ssf.example')).toBe(
      'https://ssf.example/.well-known/ssf-configuration',
    );
  });
});
