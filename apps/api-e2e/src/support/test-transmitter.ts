import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { type CryptoKey, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';

/** CAEP 1.0 event types. */
export const SESSION_REVOKED =
  'https://schemas.openid.net/secevent/caep/event-type/session-revoked';
export const CREDENTIAL_CHANGE =
  'https://schemas.openid.net/secevent/caep/event-type/credential-change';

/**
 * A Shared Signals transmitter reduced to what a receiver reads: its metadata (SSF 1.0 §7.2, at
 * `/.well-known/ssf-configuration/<path>`) and its JWKS on a loopback port, and a key that
 * signs Security Event Tokens (RFC 8417). Its issuer has a path, so that the metadata URL is
 * the one SSF 1.0 builds (the well-known part between host and path).
 */
export class TestTransmitter {
  private server: Server | undefined;
  private key: { readonly privateKey: CryptoKey; readonly jwk: JWK } | undefined;

  /** The issuer URL (`iss`). */
  get issuer(): string {
    return `http://127.0.0.1:${(this.server?.address() as AddressInfo).port}/ssf`;
  }

  async start(): Promise<void> {
    const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
    const jwk = { ...(await exportJWK(publicKey)), kid: 'set-1', alg: 'RS256', use: 'sig' };
    this.key = { privateKey, jwk };
    this.server = createServer((request, response) => {
      response.setHeader('content-type', 'application/json');
      if (request.url === '/.well-known/ssf-configuration/ssf') {
        response.end(
          JSON.stringify({
            spec_version: '1_0',
            issuer: this.issuer,
            jwks_uri: `${this.issuer}/jwks`,
            delivery_methods_supported: ['urn:ietf:rfc:8935'],
          }),
        );
      } else if (request.url === '/ssf/jwks') {
        response.end(JSON.stringify({ keys: [jwk] }));
      } else {
        response.statusCode = 404;
        response.end('{}');
      }
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server?.close(() => resolve()));
  }

  /**
   * A SET carrying `events`, for `audience`; `claims` and `header` override the defaults, and
   * `key` signs instead of the published one.
   */
  sign(
    audience: string,
    events: Record<string, unknown>,
    claims: Record<string, unknown> = {},
    header: Record<string, unknown> = {},
    key?: CryptoKey,
  ): Promise<string> {
    if (this.key === undefined) throw new Error('the transmitter is not started');
    return new SignJWT({
      iss: this.issuer,
      aud: audience,
      jti: randomUUID(),
      iat: Math.floor(Date.now() / 1000),
      events,
      ...claims,
    })
      .setProtectedHeader({ alg: 'RS256', kid: 'set-1', typ: 'secevent+jwt', ...header })
      .sign(key ?? this.key.privateKey);
  }
}
