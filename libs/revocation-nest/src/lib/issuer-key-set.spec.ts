import { LoopbackIssuer } from '@rescind/testing';
import { IssuerKeySet, openIdConfigurationUrl, ssfConfigurationUrl } from './issuer-key-set';

describe('IssuerKeySet', () => {
  const fake = new LoopbackIssuer();
  let nowMs = 1_000_000;
  const keySet = (cooldownMs = 30_000): IssuerKeySet =>
    new IssuerKeySet({
      issuer: fake.issuer,
      cooldownMs,
      fetchTimeoutMs: 5_000,
      now: () => nowMs,
    });
  /** A key set without cooldown that puts its errors in `errors`, reading `metadataUrl` if given. */
  const reportingKeySet = (errors: unknown[], metadataUrl?: string): IssuerKeySet =>
    new IssuerKeySet({
      issuer: fake.issuer,
      metadataUrl,
      cooldownMs: 0,
      fetchTimeoutMs: 5_000,
      onError: (error) => errors.push(error),
    });

  beforeAll(() => fake.start());
  afterAll(() => fake.stop());
  beforeEach(async () => {
    fake.reset();
    await fake.addKey('a', 'ES256');
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
    await fake.addKey('b', 'RS256');
    expect(await keys.key('b', 'RS256')).toBeDefined();
    expect(await keys.key('a', 'ES256')).toBeDefined();
  });

  it('keeps the keys it holds when the endpoint fails', async () => {
    const errors: unknown[] = [];
    const keys = reportingKeySet(errors);
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
    await fake.addKey('b', 'EdDSA');
    const keys = keySet();
    await keys.refresh();
    expect(await keys.key(undefined, 'EdDSA')).toBeDefined();
  });

  it('refuses a discovery document naming another issuer, and never rejects', async () => {
    const errors: unknown[] = [];
    fake.metadataOverrides = { issuer: `${fake.issuer}/other` };
    const keys = reportingKeySet(errors);
    await keys.refresh();
    expect(keys.size).toBe(0);
    expect(errors).toHaveLength(1);
  });

  it('picks up a key added at the issuer by its periodic refresh, with no token waiting', async () => {
    const keys = keySet();
    await keys.refresh();
    await fake.addKey('b', 'ES256');
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
    const keys = reportingKeySet(errors, fake.jwksUri);
    await keys.refresh();
    // The JWKS names no issuer: never taken for metadata.
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
