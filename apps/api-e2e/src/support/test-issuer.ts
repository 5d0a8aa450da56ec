import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import {
  type CryptoKey,
  exportJWK,
  exportSPKI,
  generateKeyPair,
  type JWK,
  type JWTPayload,
  SignJWT,
} from 'jose';

/** An algorithm the test issuer signs with. */
export type IssuerAlgorithm = 'RS256' | 'ES256' | 'EdDSA';

interface SigningKey {
  readonly kid: string;
  readonly alg: IssuerAlgorithm;
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  readonly jwk: JWK;
}

/**
 * An OpenID provider reduced to what a resource server reads: a discovery document and a JWKS on a
 * loopback port, and keys to sign access tokens with. Keys can be added (published or not),
 * unpublished, and the JWKS endpoint made to fail.
 */
export class TestIssuer {
  private readonly keys = new Map<string, SigningKey>();
  private readonly published = new Set<string>();
  /** Our client id at this provider (`OIDC_CLIENT_ID`), the audience of its logout tokens. */
  clientId = 'rescind';
  /** Answer 503 to every JWKS request. */
  failing = false;
  private server: Server | undefined;

  /** The issuer URL (`iss`). */
  get issuer(): string {
    return `http://127.0.0.1:${(this.server?.address() as AddressInfo).port}`;
  }

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      response.setHeader('content-type', 'application/json');
      if (request.url === '/.well-known/openid-configuration') {
        response.end(JSON.stringify({ issuer: this.issuer, jwks_uri: `${this.issuer}/jwks` }));
      } else if (request.url === '/jwks' && !this.failing) {
        const keys = [...this.published].map((kid) => this.keys.get(kid)?.jwk);
        response.end(JSON.stringify({ keys }));
      } else {
        response.statusCode = 503;
        response.end('{}');
      }
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server?.close(() => resolve()));
  }

  /** Creates a key; published in the JWKS unless said otherwise. */
  async addKey(kid: string, alg: IssuerAlgorithm, publish = true): Promise<void> {
    const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
    const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
    this.keys.set(kid, { kid, alg, privateKey, publicKey, jwk });
    if (publish) this.published.add(kid);
  }

  /** Puts a key in the JWKS. */
  publish(kid: string): void {
    this.published.add(kid);
  }

  /** The PEM (SPKI) of a key's public half, what an algorithm-confusion attack "signs" with. */
  publicPem(kid: string): Promise<string> {
    return exportSPKI(this.key(kid).publicKey);
  }

  /** Signs an access token with key `kid`; `claims` and `header` override the defaults. */
  sign(
    kid: string,
    claims: JWTPayload = {},
    header: Record<string, unknown> = {},
  ): Promise<string> {
    const key = this.key(kid);
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({
      iss: this.issuer,
      aud: ['rescind-api', 'other-api'],
      sub: 'alice',
      jti: `at-${Math.random().toString(36).slice(2)}`,
      iat: now,
      exp: now + 300,
      client_id: 'web',
      ...claims,
    })
      .setProtectedHeader({ alg: key.alg, kid, typ: 'at+jwt', ...header })
      .sign(key.privateKey);
  }

  /**
   * Signs an OpenID Connect Back-Channel Logout 1.0 §2.4 logout token with key `kid`, for
   * `clientId`, with a fresh `jti` and the back-channel logout event; `claims` and `header`
   * override the defaults (`undefined` removes one). Give it a `sid` or a `sub`.
   */
  signLogoutToken(
    kid: string,
    claims: JWTPayload = {},
    header: Record<string, unknown> = {},
  ): Promise<string> {
    const key = this.key(kid);
    return new SignJWT({
      iss: this.issuer,
      aud: this.clientId,
      iat: Math.floor(Date.now() / 1000),
      jti: `lt-${Math.random().toString(36).slice(2)}`,
      events: { 'http://schemas.openid.net/event/backchannel-logout': {} },
      ...claims,
    })
      .setProtectedHeader({ alg: key.alg, kid, typ: 'logout+jwt', ...header })
      .sign(key.privateKey);
  }

  private key(kid: string): SigningKey {
    const key = this.keys.get(kid);
    if (key === undefined) throw new Error(`no key ${kid}`);
    return key;
  }
}
