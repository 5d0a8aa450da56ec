import { type CryptoKey, importJWK, type JWK } from 'jose';

/** Signature algorithms accepted from an external issuer: asymmetric only (docs/design.md, "External issuers"). */
export const EXTERNAL_ALGORITHMS = ['RS256', 'PS256', 'ES256', 'EdDSA'] as const;

/** One of {@link EXTERNAL_ALGORITHMS}. */
export type ExternalAlgorithm = (typeof EXTERNAL_ALGORITHMS)[number];

/** The key type (`kty`, and `crv` where it matters) each algorithm needs. */
const KEY_TYPE: Readonly<Record<ExternalAlgorithm, (jwk: JWK) => boolean>> = {
  RS256: (jwk) => jwk.kty === 'RSA',
  PS256: (jwk) => jwk.kty === 'RSA',
  ES256: (jwk) => jwk.kty === 'EC' && jwk.crv === 'P-256',
  EdDSA: (jwk) => jwk.kty === 'OKP' && (jwk.crv === 'Ed25519' || jwk.crv === 'Ed448'),
};

/** OpenID Connect Discovery 1.0 §4: `/.well-known/openid-configuration` appended to the issuer. */
export function openIdConfigurationUrl(issuer: string): string {
  return `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
}

/**
 * The Shared Signals Framework's metadata (SSF 1.0 §7.2, as RFC 8414 §3 does): the well-known
 * path inserted between the issuer's host and its path.
 */
export function ssfConfigurationUrl(issuer: string): string {
  const url = new URL(issuer);
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
  return `${url.origin}/.well-known/ssf-configuration${path}`;
}

/** A verification key as `jose` takes it. */
export type VerificationKey = CryptoKey;

/** How an {@link IssuerKeySet} reaches the issuer. */
export interface IssuerKeySetOptions {
  /** The issuer, as its metadata document must name it. */
  readonly issuer: string;
  /**
   * Where its metadata (with `issuer` and `jwks_uri`) is.
   * @default {@link openIdConfigurationUrl} of the issuer
   */
  readonly metadataUrl?: string;
  /** Least time between two refetches caused by an unknown `kid`. */
  readonly cooldownMs: number;
  /** Longest wait for one document. */
  readonly fetchTimeoutMs: number;
  /** Reads the time (milliseconds) the cooldown is measured with. @default Date.now */
  readonly now?: () => number;
  /** Told of every failed fetch (the keys held are kept). */
  readonly onError?: (error: unknown) => void;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
}

/**
 * The keys of one issuer's JWKS, fetched through its discovery document and held in memory.
 * A token whose `kid` is unknown starts one refetch (then none for the cooldown) that every such
 * token waits on; a token whose key is held never waits. A failed fetch keeps the keys held, so
 * an unreachable endpoint never rejects a token it signed with a known key.
 */
export class IssuerKeySet {
  private jwks = new Map<string, JWK>();
  /** Imported keys by `kid` and algorithm: importing is asynchronous and not free. */
  private readonly imported = new Map<string, Promise<VerificationKey>>();
  private inFlight: Promise<void> | undefined;
  /** When an unknown `kid` last caused a refetch: the cooldown counts from it, not from warm-up. */
  private lastMissFetchMs = Number.NEGATIVE_INFINITY;
  private jwksUri: string | undefined;
  private readonly now: () => number;
  private readonly fetch: typeof fetch;
  private readonly metadataUrl: string;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: IssuerKeySetOptions) {
    this.now = options.now ?? Date.now;
    this.fetch = options.fetch ?? globalThis.fetch;
    this.metadataUrl = options.metadataUrl ?? openIdConfigurationUrl(options.issuer);
  }

  /**
   * Refetches the keys every `intervalMs` (and the metadata with them), so that a key the issuer
   * adds is held before its first token arrives, and one it withdraws stops verifying. The timer
   * never keeps the process alive; {@link stop} ends it.
   */
  startRefreshing(intervalMs: number): void {
    this.stop();
    this.timer = setInterval(() => {
      this.jwksUri = undefined;
      void this.refresh();
    }, intervalMs);
    this.timer.unref();
  }

  /** Ends {@link startRefreshing}. */
  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** How many keys are held. */
  get size(): number {
    return this.jwks.size;
  }

  /**
   * Fetches the JWKS now (single flight); never rejects. Called at start-up to warm the keys,
   * and by {@link key} for an unknown `kid`.
   */
  refresh(): Promise<void> {
    this.inFlight ??= this.fetchKeys()
      .catch((error: unknown) => this.options.onError?.(error))
      .finally(() => {
        this.inFlight = undefined;
      });
    return this.inFlight;
  }

  /**
   * The key to verify a token with `kid` (or, with none, the only key fit for `alg`) signed
   * with `alg`; undefined when there is none even after a refetch the cooldown allowed.
   */
  async key(kid: string | undefined, alg: ExternalAlgorithm): Promise<VerificationKey | undefined> {
    let jwk = this.find(kid, alg);
    if (jwk === undefined && this.now() - this.lastMissFetchMs >= this.options.cooldownMs) {
      this.lastMissFetchMs = this.now();
      await this.refresh();
      jwk = this.find(kid, alg);
    } else if (jwk === undefined && this.inFlight !== undefined) {
      await this.inFlight;
      jwk = this.find(kid, alg);
    }
    if (jwk === undefined || !KEY_TYPE[alg](jwk) || (jwk.alg !== undefined && jwk.alg !== alg)) {
      return undefined;
    }
    const id = `${jwk.kid ?? ''}\u0000${alg}\u0000${jwk.x ?? jwk.n ?? ''}`;
    let key = this.imported.get(id);
    if (key === undefined) {
      key = importJWK(jwk, alg) as Promise<VerificationKey>;
      this.imported.set(id, key);
      key.catch(() => this.imported.delete(id));
    }
    return key;
  }

  private find(kid: string | undefined, alg: ExternalAlgorithm): JWK | undefined {
    if (kid !== undefined) return this.jwks.get(kid);
    const fit = [...this.jwks.values()].filter((jwk) => KEY_TYPE[alg](jwk));
    return fit.length === 1 ? fit[0] : undefined;
  }

  private async fetchKeys(): Promise<void> {
    if (this.jwksUri === undefined) {
      const metadata = await this.getJson(this.metadataUrl);
      const { issuer, jwks_uri: jwksUri } = metadata as { issuer?: unknown; jwks_uri?: unknown };
      // OpenID Connect Discovery 1.0 §4.3 (and SSF 1.0 §7.2.1): the document must name the
      // issuer it was fetched for.
      if (issuer !== this.options.issuer)
        throw new Error('the metadata document names another issuer');
      if (typeof jwksUri !== 'string') throw new Error('the metadata document has no jwks_uri');
      this.jwksUri = jwksUri;
    }
    const { keys } = (await this.getJson(this.jwksUri)) as { keys?: unknown };
    if (!Array.isArray(keys)) throw new Error('the JWKS has no keys array');
    const next = new Map<string, JWK>();
    let anonymous = 0;
    for (const jwk of keys as JWK[]) {
      if (typeof jwk !== 'object' || jwk === null || typeof jwk.kty !== 'string') continue;
      if (jwk.use !== undefined && jwk.use !== 'sig') continue;
      next.set(typeof jwk.kid === 'string' ? jwk.kid : `\u0000${anonymous++}`, jwk);
    }
    this.jwks = next;
  }

  private async getJson(url: string): Promise<unknown> {
    const response = await this.fetch(url, {
      signal: AbortSignal.timeout(this.options.fetchTimeoutMs),
      headers: { accept: 'application/json' },
      redirect: 'error',
    });
    if (!response.ok) throw new Error(`${url} answered ${response.status}`);
    return response.json();
  }
}
