import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import {
  CompactSign,
  type CryptoKey,
  exportJWK,
  exportSPKI,
  generateKeyPair,
  type JWK,
  type JWTPayload,
  SignJWT,
} from 'jose';

/** An algorithm a {@link LoopbackIssuer} key signs with. */
export type LoopbackAlgorithm = 'RS256' | 'PS256' | 'ES256' | 'EdDSA';

/** The event of an OpenID Connect Back-Channel Logout 1.0 §2.4 logout token. */
export const BACKCHANNEL_LOGOUT = 'http://schemas.openid.net/event/backchannel-logout';

/** CAEP 1.0 §3.1 session-revoked event type. */
export const SESSION_REVOKED =
  'https://schemas.openid.net/secevent/caep/event-type/session-revoked';
/** CAEP 1.0 §3.3 credential-change event type. */
export const CREDENTIAL_CHANGE =
  'https://schemas.openid.net/secevent/caep/event-type/credential-change';

/** Protected header fields that override a token's defaults (`undefined` removes one). */
type Header = Record<string, unknown>;

/** How a {@link LoopbackIssuer} is reached and what it signs by default. */
export interface LoopbackIssuerOptions {
  /**
   * The metadata it serves: `openid` (OpenID Connect Discovery 1.0 §4, at
   * `<issuer>/.well-known/openid-configuration`) or `ssf` (SSF 1.0 §7.2, at
   * `/.well-known/ssf-configuration/<path>`). Default `openid`.
   */
  readonly metadata?: 'openid' | 'ssf';
  /** A path the issuer URL ends with (`http://127.0.0.1:<port>/<path>`); none by default. */
  readonly path?: string;
  /** The `aud` of its access tokens and SETs; default `['rescind-api', 'other-api']`. */
  readonly audience?: string | string[];
  /** Our client id at this provider (`OIDC_CLIENT_ID`), the `aud` of its logout tokens. */
  readonly clientId?: string;
}

/** A key of the issuer: its private half signs, its JWK is what the JWKS publishes. */
export interface LoopbackKey {
  readonly kid: string;
  readonly alg: LoopbackAlgorithm;
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  readonly jwk: JWK;
}

/**
 * An OpenID provider or a Shared Signals transmitter reduced to what a resource server or a
 * receiver reads (docs/design.md, "External issuers" and "Security events (CAEP)"): its metadata
 * and a JWKS on a loopback port, and keys that sign access tokens (RFC 9068), logout tokens
 * (OpenID Connect Back-Channel Logout 1.0 §2.4) and Security Event Tokens (RFC 8417). Keys can be
 * added (published or not), published, unpublished, and the JWKS endpoint made to fail.
 */
export class LoopbackIssuer {
  private readonly keys = new Map<string, LoopbackKey>();
  private readonly published = new Set<string>();
  private readonly metadata: 'openid' | 'ssf';
  private readonly path: string;
  private server: Server | undefined;
  /** The `aud` of its access tokens and SETs. */
  audience: string | string[];
  /** Our client id at this provider (`OIDC_CLIENT_ID`), the `aud` of its logout tokens. */
  clientId: string;
  /** Answer 503 to every JWKS request. */
  failing = false;
  /** JWKS requests received, failed ones included. */
  jwksFetches = 0;
  /** Fields that replace those of its metadata document, e.g. an `issuer` that is not its own. */
  metadataOverrides: Record<string, unknown> = {};

  constructor(options: LoopbackIssuerOptions = {}) {
    this.metadata = options.metadata ?? 'openid';
    this.path = options.path === undefined ? '' : `/${options.path.replace(/^\/+|\/+$/g, '')}`;
    this.audience = options.audience ?? ['rescind-api', 'other-api'];
    this.clientId = options.clientId ?? 'rescind';
  }

  /** The issuer URL (`iss`). */
  get issuer(): string {
    return `${this.origin}${this.path}`;
  }

  /** Where its metadata document is served. */
  get metadataUrl(): string {
    return this.metadata === 'openid'
      ? `${this.issuer}/.well-known/openid-configuration`
      : `${this.origin}/.well-known/ssf-configuration${this.path}`;
  }

  /** Where its JWKS is served (the metadata's `jwks_uri`). */
  get jwksUri(): string {
    return `${this.issuer}/jwks`;
  }

  private get origin(): string {
    const address = this.server?.address();
    if (typeof address !== 'object' || address === null) {
      throw new Error('the loopback issuer is not started');
    }
    return `http://127.0.0.1:${address.port}`;
  }

  /** Listens on a free loopback port. */
  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      response.setHeader('content-type', 'application/json');
      const url = `${this.origin}${request.url ?? ''}`;
      if (url === this.metadataUrl) {
        response.end(JSON.stringify(this.metadataDocument()));
      } else if (url === this.jwksUri) {
        this.jwksFetches += 1;
        if (this.failing) {
          response.statusCode = 503;
          response.end('{}');
          return;
        }
        const keys = [...this.published].map((kid) => this.keys.get(kid)?.jwk);
        response.end(JSON.stringify({ keys }));
      } else {
        response.statusCode = 404;
        response.end('{}');
      }
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
  }

  /** Stops listening. */
  stop(): Promise<void> {
    return new Promise((resolve) => this.server?.close(() => resolve()));
  }

  /** Creates key `kid` (replacing one of that name); published in the JWKS unless said otherwise. */
  async addKey(kid: string, alg: LoopbackAlgorithm, publish = true): Promise<void> {
    const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
    const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
    this.keys.set(kid, { kid, alg, privateKey, publicKey, jwk });
    if (publish) this.published.add(kid);
    else this.published.delete(kid);
  }

  /** Puts a key in the JWKS. */
  publish(kid: string): void {
    this.key(kid);
    this.published.add(kid);
  }

  /** Takes a key out of the JWKS; it still signs. */
  unpublish(kid: string): void {
    this.published.delete(kid);
  }

  /** Forgets every key and metadata override, answers the JWKS again, zeroes {@link jwksFetches}. */
  reset(): void {
    this.keys.clear();
    this.published.clear();
    this.failing = false;
    this.jwksFetches = 0;
    this.metadataOverrides = {};
  }

  /** Key `kid`; throws if there is none. */
  key(kid: string): LoopbackKey {
    const key = this.keys.get(kid);
    if (key === undefined) throw new Error(`no key ${kid}`);
    return key;
  }

  /** The PEM (SPKI) of a key's public half, what an algorithm-confusion attack "signs" with. */
  publicPem(kid: string): Promise<string> {
    return exportSPKI(this.key(kid).publicKey);
  }

  /** The claims of an access token, which `claims` overrides (`undefined` removes one). */
  accessTokenClaims(claims: JWTPayload = {}): JWTPayload {
    const now = Math.floor(Date.now() / 1000);
    return {
      iss: this.issuer,
      aud: this.audience,
      sub: 'alice',
      jti: `at-${randomUUID()}`,
      iat: now,
      exp: now + 300,
      client_id: 'web',
      ...claims,
    };
  }

  /** Signs an access token (RFC 9068) with key `kid`; `claims` and `header` override the defaults. */
  sign(kid: string, claims: JWTPayload = {}, header: Header = {}): Promise<string> {
    return this.signJwt(kid, this.accessTokenClaims(claims), { typ: 'at+jwt', ...header });
  }

  /**
   * The claims of a logout token (OpenID Connect Back-Channel Logout 1.0 §2.4): for `clientId`,
   * with a fresh `jti` and the back-channel logout event, which `claims` overrides (`undefined`
   * removes one). Give it a `sid` or a `sub`.
   */
  logoutTokenClaims(claims: JWTPayload = {}): JWTPayload {
    return {
      iss: this.issuer,
      aud: this.clientId,
      iat: Math.floor(Date.now() / 1000),
      jti: `lt-${randomUUID()}`,
      events: { [BACKCHANNEL_LOGOUT]: {} },
      ...claims,
    };
  }

  /** Signs a logout token with key `kid`; `claims` and `header` override the defaults. */
  signLogoutToken(kid: string, claims: JWTPayload = {}, header: Header = {}): Promise<string> {
    return this.signJwt(kid, this.logoutTokenClaims(claims), { typ: 'logout+jwt', ...header });
  }

  /**
   * Signs a Security Event Token (RFC 8417) carrying `events` with key `kid`, for `audience`;
   * `claims` and `header` override the defaults (`undefined` removes one).
   */
  signSet(
    kid: string,
    events: Record<string, unknown>,
    claims: JWTPayload = {},
    header: Header = {},
  ): Promise<string> {
    return this.signJwt(
      kid,
      {
        iss: this.issuer,
        aud: this.audience,
        jti: randomUUID(),
        iat: Math.floor(Date.now() / 1000),
        events,
        ...claims,
      },
      { typ: 'secevent+jwt', ...header },
    );
  }

  /** Signs `text` as the payload, as given (e.g. one naming a claim twice), with key `kid`. */
  signText(kid: string, text: string, header: Header = {}): Promise<string> {
    const key = this.key(kid);
    return new CompactSign(new TextEncoder().encode(text))
      .setProtectedHeader({ alg: key.alg, kid, ...header })
      .sign(key.privateKey);
  }

  private signJwt(kid: string, claims: JWTPayload, header: Header): Promise<string> {
    const key = this.key(kid);
    return new SignJWT(claims)
      .setProtectedHeader({ alg: key.alg, kid, ...header })
      .sign(key.privateKey);
  }

  private metadataDocument(): Record<string, unknown> {
    const common = { issuer: this.issuer, jwks_uri: this.jwksUri };
    const document =
      this.metadata === 'openid'
        ? common
        : { spec_version: '1_0', ...common, delivery_methods_supported: ['urn:ietf:rfc:8935'] };
    return { ...document, ...this.metadataOverrides };
  }
}
