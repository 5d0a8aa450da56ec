import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import {
  CompactSign,
  type CryptoKey,
  exportJWK,
  exportSPKI,
  generateKeyPair,
  type JWK,
  type JWTPayload,
  SignJWT,
  UnsecuredJWT,
} from 'jose';
import { Redis } from 'ioredis';
import { RedisKeys, RevocationStore } from '@rescind/revocation-redis';
import { deleteKeysWithPrefix, TEST_REDIS_URL, uniqueKeyPrefix } from '@rescind/testing';
import { ExternalTokenVerifier } from './external-token.verifier';
import {
  BACKCHANNEL_LOGOUT_EVENT,
  LOGOUT_TOKEN_MAX_AGE_MS,
  LogoutTokenInvalidError,
  LogoutTokenVerifier,
  logoutReplayScope,
} from './logout-token.verifier';
import { externalIdPrefix, type ResolvedExternalIssuer } from './revocation-module-options';

const CLIENT_ID = 'rescind-client';
const SKEW_MS = 2_000;

type Alg = 'RS256' | 'PS256' | 'ES256' | 'EdDSA';

interface Key {
  readonly alg: Alg;
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  readonly jwk: JWK;
}

/** A discovery document and a JWKS on a loopback port, and the private keys behind them. */
class FakeIssuer {
  readonly keys = new Map<string, Key>();
  private server: Server | undefined;

  get issuer(): string {
    return `http://127.0.0.1:${(this.server?.address() as AddressInfo).port}`;
  }

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      response.setHeader('content-type', 'application/json');
      if (request.url === '/.well-known/openid-configuration') {
        response.end(JSON.stringify({ issuer: this.issuer, jwks_uri: `${this.issuer}/jwks` }));
        return;
      }
      response.end(JSON.stringify({ keys: [...this.keys.values()].map((key) => key.jwk) }));
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server?.close(() => resolve()));
  }

  async addKey(kid: string, alg: Alg): Promise<void> {
    const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
    const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
    this.keys.set(kid, { alg, privateKey, publicKey, jwk });
  }

  key(kid: string): Key {
    const key = this.keys.get(kid);
    if (key === undefined) throw new Error(`no key ${kid}`);
    return key;
  }

  /** The claims of a valid logout token, which `claims` overrides (undefined removes one). */
  claims(claims: JWTPayload = {}): JWTPayload {
    return {
      iss: this.issuer,
      aud: [CLIENT_ID, 'another-client'],
      iat: Math.floor(Date.now() / 1000),
      jti: randomUUID(),
      sid: 'provider-session',
      events: { [BACKCHANNEL_LOGOUT_EVENT]: {} },
      ...claims,
    };
  }

  sign(
    kid: string,
    claims: JWTPayload = {},
    header: Record<string, unknown> = {},
  ): Promise<string> {
    const key = this.key(kid);
    return new SignJWT(this.claims(claims))
      .setProtectedHeader({ alg: key.alg, kid, typ: 'logout+jwt', ...header })
      .sign(key.privateKey);
  }

  /** Signs the claims text as given, e.g. one naming a claim twice. */
  signText(kid: string, text: string): Promise<string> {
    const key = this.key(kid);
    return new CompactSign(new TextEncoder().encode(text))
      .setProtectedHeader({ alg: key.alg, kid, typ: 'logout+jwt' })
      .sign(key.privateKey);
  }
}

function resolved(issuer: string, clientId: string | undefined): ResolvedExternalIssuer {
  return {
    issuer,
    audience: 'rescind-api',
    clientId,
    tokenIdClaim: 'jti',
    logoutRevokes: 'session',
    jwksCooldownMs: 30_000,
    jwksRefreshMs: 300_000,
    fetchTimeoutMs: 5_000,
    idPrefix: externalIdPrefix(issuer),
  };
}

describe('LogoutTokenVerifier (OpenID Connect Back-Channel Logout 1.0 §2.6)', () => {
  const provider = new FakeIssuer();
  const clock = { now: () => Date.now() };
  let external: ExternalTokenVerifier;
  let verifier: LogoutTokenVerifier;

  beforeAll(async () => {
    await provider.start();
    await Promise.all([
      provider.addKey('rsa', 'RS256'),
      provider.addKey('pss', 'PS256'),
      provider.addKey('ec', 'ES256'),
      provider.addKey('ed', 'EdDSA'),
    ]);
    const limits = { clockSkewMs: SKEW_MS, accessTokenTtlSeconds: 900 };
    external = new ExternalTokenVerifier(resolved(provider.issuer, CLIENT_ID), clock, limits);
    await external.keys.refresh();
    verifier = new LogoutTokenVerifier({
      issuer: (iss) => (iss === provider.issuer ? external : undefined),
      clock,
      clockSkewMs: SKEW_MS,
    });
  });

  afterAll(() => provider.stop());

  async function refusal(token: string | Promise<string>): Promise<string> {
    const error: unknown = await verifier.verify(await token).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(LogoutTokenInvalidError);
    return (error as Error).message;
  }

  it.each(['rsa', 'pss', 'ec', 'ed'])('accepts a token signed with the %s key', async (kid) => {
    const verified = await verifier.verify(await provider.sign(kid, { jti: `j-${kid}` }));
    expect(verified).toEqual({
      issuer: external.issuer,
      jti: `j-${kid}`,
      sid: 'provider-session',
    });
  });

  it('hands back the provider’s own ids, sub alone or with a sid', async () => {
    const subOnly = await verifier.verify(
      await provider.sign('ec', { sid: undefined, sub: 'alice' }),
    );
    expect(subOnly).toMatchObject({ sub: 'alice' });
    expect(subOnly.sid).toBeUndefined();
    const both = await verifier.verify(await provider.sign('ec', { sub: 'alice' }));
    expect(both).toMatchObject({ sid: 'provider-session', sub: 'alice' });
  });

  it('accepts typ JWT, application/logout+jwt or none, and an exp still ahead', async () => {
    for (const typ of ['JWT', 'application/logout+jwt', undefined]) {
      await expect(verifier.verify(await provider.sign('ec', {}, { typ }))).resolves.toBeDefined();
    }
    const exp = Math.floor(Date.now() / 1000) + 120;
    await expect(verifier.verify(await provider.sign('ec', { exp }))).resolves.toBeDefined();
  });

  describe('refuses', () => {
    const now = (): number => Math.floor(Date.now() / 1000);

    it('a tampered signature', async () => {
      const token = await provider.sign('rsa');
      const tampered = `${token.slice(0, -4)}${token.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`;
      expect(await refusal(tampered)).toMatch(/signature/);
    });

    it('alg none', async () => {
      const token = new UnsecuredJWT(provider.claims()).encode();
      expect(await refusal(token)).toMatch(/malformed or its signature/);
    });

    it('HS256 with the provider’s public key as the secret', async () => {
      const secret = new TextEncoder().encode(await exportSPKI(provider.key('rsa').publicKey));
      const token = await new SignJWT(provider.claims())
        .setProtectedHeader({ alg: 'HS256', kid: 'rsa', typ: 'logout+jwt' })
        .sign(secret);
      expect(await refusal(token)).toMatch(/malformed or its signature/);
    });

    it('a key the provider does not publish', async () => {
      const { privateKey } = await generateKeyPair('ES256');
      const token = await new SignJWT(provider.claims())
        .setProtectedHeader({ alg: 'ES256', kid: 'ec', typ: 'logout+jwt' })
        .sign(privateKey);
      expect(await refusal(token)).toMatch(/signature/);
    });

    it('an issuer not configured, or one that is a path longer', async () => {
      expect(await refusal(provider.sign('ec', { iss: 'https://evil.example' }))).toMatch(
        /issuer not configured/,
      );
      expect(await refusal(provider.sign('ec', { iss: `${provider.issuer}/x` }))).toMatch(
        /issuer not configured/,
      );
      expect(await refusal(provider.sign('ec', { iss: undefined }))).toMatch(/not configured/);
    });

    it('an aud without our client id', async () => {
      expect(await refusal(provider.sign('ec', { aud: 'rescind-api' }))).toMatch(/another client/);
    });

    it('no iat, a too old one, one in the future', async () => {
      expect(await refusal(provider.sign('ec', { iat: undefined }))).toMatch(/iat/);
      const oldS = now() - (LOGOUT_TOKEN_MAX_AGE_MS + SKEW_MS) / 1000 - 5;
      expect(await refusal(provider.sign('ec', { iat: oldS }))).toMatch(/too old/);
      expect(await refusal(provider.sign('ec', { iat: now() + 60 }))).toMatch(/future/);
      expect(
        await refusal(provider.sign('ec', { iat: 'yesterday' } as unknown as JWTPayload)),
      ).toMatch(/iat/);
    });

    it('an exp passed', async () => {
      expect(await refusal(provider.sign('ec', { exp: now() - 1 }))).toMatch(/expired/);
    });

    it('no jti, or one that is no revocation id', async () => {
      expect(await refusal(provider.sign('ec', { jti: undefined }))).toMatch(/jti/);
      expect(await refusal(provider.sign('ec', { jti: 'a b' }))).toMatch(/jti/);
      expect(await refusal(provider.sign('ec', { jti: 'j'.repeat(257) }))).toMatch(/jti/);
    });

    it('no events, another event only, or an event whose value is no JSON object', async () => {
      expect(await refusal(provider.sign('ec', { events: undefined }))).toMatch(/event/);
      const other = { 'http://schemas.openid.net/event/other': {} };
      expect(await refusal(provider.sign('ec', { events: other }))).toMatch(/event/);
      expect(await refusal(provider.sign('ec', { events: [BACKCHANNEL_LOGOUT_EVENT] }))).toMatch(
        /event/,
      );
      for (const value of ['yes', [], null, 1]) {
        const events = { [BACKCHANNEL_LOGOUT_EVENT]: value };
        expect(await refusal(provider.sign('ec', { events }))).toMatch(/not a JSON object/);
      }
    });

    it('neither sid nor sub, or one that is no revocation id', async () => {
      expect(await refusal(provider.sign('ec', { sid: undefined }))).toMatch(/neither sid nor sub/);
      expect(await refusal(provider.sign('ec', { sid: 'a b' }))).toMatch(/sid/);
      expect(await refusal(provider.sign('ec', { sid: 7 }))).toMatch(/sid/);
      // The namespace takes 10 of the 256 characters an id may have.
      expect(await refusal(provider.sign('ec', { sid: 's'.repeat(250) }))).toMatch(/sid/);
      expect(await refusal(provider.sign('ec', { sid: undefined, sub: '' }))).toMatch(/sub/);
    });

    it('a nonce', async () => {
      expect(await refusal(provider.sign('ec', { nonce: 'n-1' }))).toMatch(/nonce/);
    });

    it('another typ (an access token’s)', async () => {
      expect(await refusal(provider.sign('ec', {}, { typ: 'at+jwt' }))).toMatch(/typ/);
    });

    it('a claim named twice', async () => {
      const text = JSON.stringify(provider.claims()).replace(/}$/, ',"sid":"another-session"}');
      expect(await refusal(provider.signText('ec', text))).toMatch(/repeats a claim/);
      // The same text without the repetition is accepted: the refusal is for the repetition.
      const once = JSON.stringify(provider.claims());
      await expect(verifier.verify(await provider.signText('ec', once))).resolves.toBeDefined();
    });

    it('anything that is not a JWT', async () => {
      for (const token of ['', 'abc', 'a.b.c', 'a.b', `x.${'e30'}.y.z`]) {
        expect(await refusal(token)).toMatch(/malformed/);
      }
    });

    it('every token of an issuer without a client id', async () => {
      const noClient = new ExternalTokenVerifier(resolved(provider.issuer, undefined), clock, {
        clockSkewMs: SKEW_MS,
        accessTokenTtlSeconds: 900,
      });
      const strict = new LogoutTokenVerifier({
        issuer: () => noClient,
        clock,
        clockSkewMs: SKEW_MS,
      });
      await expect(strict.verify(await provider.sign('ec'))).rejects.toThrow(/not configured/);
    });
  });

  describe('replay, against a real Redis', () => {
    const prefix = uniqueKeyPrefix();
    const connections: Redis[] = [];

    /** A verifier as one replica has it: its own connection to the shared store. */
    function replica(): LogoutTokenVerifier {
      const redis = new Redis(TEST_REDIS_URL);
      connections.push(redis);
      return new LogoutTokenVerifier({
        issuer: (iss) => (iss === provider.issuer ? external : undefined),
        clock,
        clockSkewMs: SKEW_MS,
        replay: new RevocationStore(redis, new RedisKeys(prefix)),
      });
    }

    afterAll(async () => {
      await Promise.all(connections.map((redis) => redis.quit()));
      await deleteKeysWithPrefix(prefix);
    });

    it('refuses a jti seen before, on any replica, and keeps it for the whole window', async () => {
      const [a, b] = [replica(), replica()];
      const token = await provider.sign('ec');
      await expect(a.verify(token)).resolves.toBeDefined();
      await expect(b.verify(token)).rejects.toThrow(/replayed/);
      await expect(a.verify(token)).rejects.toThrow(LogoutTokenInvalidError);
      // Another token with the same jti is the same message.
      const { jti } = JSON.parse(
        Buffer.from(token.split('.')[1] as string, 'base64url').toString(),
      ) as { jti: string };
      await expect(b.verify(await provider.sign('rsa', { jti, sub: 'x' }))).rejects.toThrow(
        /replayed/,
      );
      await expect(b.verify(await provider.sign('ec'))).resolves.toBeDefined();
      // Held at least as long as a token with that jti could still be accepted.
      const redis = connections[0] as Redis;
      const [key] = await redis.keys(`${prefix}:seen:${logoutReplayScope(external.issuer)}:*`);
      expect(key).toBeDefined();
      expect(await redis.pttl(key as string)).toBeGreaterThan(LOGOUT_TOKEN_MAX_AGE_MS);
    });

    it('claims nothing for a token that fails validation', async () => {
      const [a] = [replica()];
      const jti = randomUUID();
      await expect(a.verify(await provider.sign('ec', { jti, nonce: 'n' }))).rejects.toThrow(
        /nonce/,
      );
      await expect(a.verify(await provider.sign('ec', { jti }))).resolves.toBeDefined();
    });

    it('races: of twenty posts of one token, exactly one is taken', async () => {
      const token = await provider.sign('ec');
      const verifiers = [replica(), replica(), replica()];
      const outcomes = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) =>
          (verifiers[i % 3] as LogoutTokenVerifier).verify(token),
        ),
      );
      expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
    });
  });
});
