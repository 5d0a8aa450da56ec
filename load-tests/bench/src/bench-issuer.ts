import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { type CryptoKey, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';

/** Algorithms the bench's provider signs access tokens with. */
export type ProviderAlgorithm = 'ES256' | 'RS256';

/** `aud` of the provider's access tokens (`OIDC_AUDIENCE` of the replicas). */
export const PROVIDER_AUDIENCE = 'rescind-bench-api';
/** Rescind's client id at the provider (`OIDC_CLIENT_ID`): the `aud` of its logout tokens. */
export const PROVIDER_CLIENT_ID = 'rescind-bench';
/** The event a logout token carries (OpenID Connect Back-Channel Logout 1.0, §2.4). */
const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
/** Lifetime of an access token: within the replicas' `ACCESS_TOKEN_TTL` (README, env table). */
const ACCESS_TOKEN_SECONDS = 600;

interface SigningKey {
  readonly kid: string;
  readonly alg: ProviderAlgorithm;
  readonly privateKey: CryptoKey;
  readonly jwk: JWK;
}

/**
 * The bench's own OpenID provider, reduced to what a resource server reads (docs/design.md,
 * "External issuers"): a discovery document and a JWKS on a loopback port, one ES256 and one
 * RS256 key, access tokens (RFC 9068 `at+jwt`) and back-channel logout tokens signed with them.
 * The replicas fetch its keys once at start-up; nothing reaches it while the bench measures.
 */
export class BenchIssuer {
  private readonly keys = new Map<ProviderAlgorithm, SigningKey>();

  private constructor(private readonly server: Server) {}

  /** Listens on a free loopback port with a fresh key per algorithm. */
  static async start(): Promise<BenchIssuer> {
    const server = createServer();
    const issuer = new BenchIssuer(server);
    for (const alg of ['ES256', 'RS256'] as const) {
      const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
      const kid = `bench-${alg.toLowerCase()}`;
      const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
      issuer.keys.set(alg, { kid, alg, privateKey, jwk });
    }
    server.on('request', (request, response) => {
      response.setHeader('content-type', 'application/json');
      if (request.url === '/.well-known/openid-configuration') {
        response.end(JSON.stringify({ issuer: issuer.issuer, jwks_uri: `${issuer.issuer}/jwks` }));
      } else if (request.url === '/jwks') {
        response.end(JSON.stringify({ keys: [...issuer.keys.values()].map((key) => key.jwk) }));
      } else {
        response.statusCode = 404;
        response.end('{}');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return issuer;
  }

  /** The issuer URL, the `iss` of everything it signs. */
  get issuer(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** What a replica needs to accept its tokens and its logout tokens (README, env table). */
  replicaEnv(): Record<string, string> {
    return {
      OIDC_ISSUER: this.issuer,
      OIDC_AUDIENCE: PROVIDER_AUDIENCE,
      OIDC_CLIENT_ID: PROVIDER_CLIENT_ID,
    };
  }

  /** An access token of user `sub` in provider session `sid`, with a unique `jti`. */
  accessToken(alg: ProviderAlgorithm, sub: string, sid: string): Promise<string> {
    const key = this.key(alg);
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({
      iss: this.issuer,
      aud: PROVIDER_AUDIENCE,
      sub,
      sid,
      jti: `at-${randomBytes(12).toString('base64url')}`,
      iat: now,
      exp: now + ACCESS_TOKEN_SECONDS,
      client_id: PROVIDER_CLIENT_ID,
    })
      .setProtectedHeader({ alg, kid: key.kid, typ: 'at+jwt' })
      .sign(key.privateKey);
  }

  /**
   * A logout token ending provider session `sid` (OpenID Connect Back-Channel Logout 1.0, §2.4:
   * `typ` `logout+jwt`, `aud` the client id, a unique `jti`, the event, no `nonce`), ES256.
   */
  logoutToken(sid: string): Promise<string> {
    const key = this.key('ES256');
    return new SignJWT({
      iss: this.issuer,
      aud: PROVIDER_CLIENT_ID,
      iat: Math.floor(Date.now() / 1000),
      jti: `lt-${randomBytes(12).toString('base64url')}`,
      events: { [BACKCHANNEL_LOGOUT_EVENT]: {} },
      sid,
    })
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'logout+jwt' })
      .sign(key.privateKey);
  }

  /** Stops listening. */
  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private key(alg: ProviderAlgorithm): SigningKey {
    const key = this.keys.get(alg);
    if (key === undefined) throw new Error(`no ${alg} key`);
    return key;
  }
}
