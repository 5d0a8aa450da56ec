import { createHash, type KeyObject, randomBytes } from 'node:crypto';
import {
  Inject,
  Injectable,
  type OnModuleDestroy,
  type OnModuleInit,
  Optional,
} from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { LRUCache } from 'lru-cache';
import {
  InvalidInputError,
  isRevocationId,
  issuedAtMs,
  NotInSyncError,
  type Clock,
  RevocationCache,
  RevocationSynchronizer,
  TokenInvalidError,
} from '@rescind/revocation-core';
import { type AccessTokenClaims } from './access-token-claims';
import { ExternalTokenVerifier } from './external-token.verifier';
import { hasDuplicateMember } from './json-member-names';
import { REVOCATION_CLOCK, REVOCATION_OPTIONS } from './revocation.constants';
import {
  type ResolvedExternalIssuer,
  type ResolvedRevocationOptions,
} from './revocation-module-options';

/** An issued access token. */
export interface IssuedToken {
  readonly token: string;
  readonly claims: AccessTokenClaims;
  /** Seconds until it expires. */
  readonly expiresIn: number;
}

/** Tolerated disagreement between `exp - iat` and the configured lifetime (rounding). */
const LIFETIME_SLACK_SECONDS = 1;

/** How long a token waits for the replica's first read of the store before 503. */
const HYDRATION_WAIT_MS = 2_000;
const HYDRATION_POLL_MS = 20;

/** What {@link TokenService} needs of the synchroniser: whether it has read the store yet. */
export interface HydrationState {
  readonly hydrated: boolean;
}

const EXPIRED = 'The access token expired';

/**
 * Whether the payload names a claim twice. `JSON.parse` keeps the last duplicate, and another
 * parser might keep the first; RFC 7519 §4 lets us reject such a token outright. The names are
 * read from the payload's top level, so that a claim's value (a username `sub`) is not taken for
 * a name.
 */
function hasRepeatedClaim(token: string): boolean {
  const start = token.indexOf('.') + 1;
  const json = Buffer.from(token.slice(start, token.indexOf('.', start)), 'base64url').toString();
  return hasDuplicateMember(json);
}

/** A key's id (`kid`): a short digest of the key, so that it needs no configuration. */
export function keyId(key: KeyObject): string {
  return createHash('sha256').update(key.export()).digest('base64url').slice(0, 12);
}

/**
 * Signs and verifies access tokens with `@nestjs/jwt`. Keys are `KeyObject`s, so they are not
 * re-derived on every call, and the algorithm is pinned: `alg: none` and any other algorithm
 * fail verification. Tokens carry the `kid` of the current key; previous keys still verify the
 * tokens they signed, so that keys can be rotated without logging everyone out.
 */
@Injectable()
export class TokenService implements OnModuleInit, OnModuleDestroy {
  private readonly jwt: JwtService;
  /** Verifiers of the external issuers' tokens, by `iss` (docs/design.md, "External issuers"). */
  private readonly external = new Map<string, ExternalTokenVerifier>();
  private readonly kid: string;
  /** Verifiers by `kid`, the current key's included; empty when there is only one key. */
  private readonly verifiers = new Map<string, JwtService>();
  private readonly ttlSeconds: number;
  private readonly clockSkewMs: number;
  /**
   * Tokens that verified, by their exact text. A client sends the same token on every request
   * of its session, and jsonwebtoken's verify (decode, JSON, HMAC, compare) is most of what the
   * guard costs, so a token seen before is not verified again: only its `exp` is checked anew,
   * the one verdict that changes with time. Tokens that fail are never remembered. Undefined
   * when `verifiedTokenCacheMax` is 0.
   */
  private readonly verified: LRUCache<string, AccessTokenClaims> | undefined;

  constructor(
    @Inject(REVOCATION_OPTIONS) options: ResolvedRevocationOptions,
    /** The module's clock (`REVOCATION_CLOCK`), the one every revocation decision reads. */
    @Inject(REVOCATION_CLOCK) private readonly clock: Clock,
    /** Whose store-wide not-before new tokens are issued after; none in unit tests. */
    @Optional() private readonly revocations?: RevocationCache,
    /** Whether that not-before was read from the store yet; none in unit tests. */
    @Optional() @Inject(RevocationSynchronizer) private readonly sync?: HydrationState,
  ) {
    this.ttlSeconds = options.accessTokenTtlSeconds;
    this.clockSkewMs = options.clockSkewMs;
    this.verified =
      options.verifiedTokenCacheMax > 0
        ? new LRUCache({ max: options.verifiedTokenCacheMax })
        : undefined;
    const service = (key: KeyObject): JwtService =>
      new JwtService({
        secret: key,
        signOptions: { algorithm: options.jwtAlgorithm, keyid: keyId(key) },
        // `complete` hands back the header too, from the one decode jsonwebtoken does anyway.
        verifyOptions: { algorithms: [options.jwtAlgorithm], complete: true },
      });
    this.jwt = service(options.jwtKey);
    this.kid = keyId(options.jwtKey);
    if (options.jwtPreviousKeys.length > 0) {
      this.verifiers.set(this.kid, this.jwt);
      for (const key of options.jwtPreviousKeys) this.verifiers.set(keyId(key), service(key));
    }
    for (const issuer of options.externalIssuers) {
      this.external.set(issuer.issuer, new ExternalTokenVerifier(issuer, clock, options));
    }
  }

  /**
   * Fetches every external issuer's keys before the app listens, so no request waits on them,
   * then keeps them fresh.
   */
  async onModuleInit(): Promise<void> {
    await Promise.all([...this.external.values()].map((verifier) => verifier.keys.refresh()));
    for (const verifier of this.external.values()) {
      verifier.keys.startRefreshing(verifier.issuer.jwksRefreshMs);
    }
  }

  onModuleDestroy(): void {
    for (const verifier of this.external.values()) verifier.keys.stop();
  }

  /**
   * The verifier of an external issuer by its exact `iss`: its keys (which also sign its logout
   * tokens) and its id namespace. Undefined for an issuer not configured.
   */
  externalIssuer(iss: string): ExternalTokenVerifier | undefined {
    return this.external.get(iss);
  }

  /**
   * The external issuer in whose namespace a revocation id is (`~<tag>~…`, docs/design.md,
   * "External issuers"); undefined for our own ids and for a tag no configured issuer has.
   */
  externalIssuerOfId(id: string): ResolvedExternalIssuer | undefined {
    if (!id.startsWith('~')) return undefined;
    for (const { issuer } of this.external.values()) {
      if (id.startsWith(issuer.idPrefix)) return issuer;
    }
    return undefined;
  }

  /** The verifier of the external issuer the token names, undefined for any other token. */
  private externalFor(token: string): ExternalTokenVerifier | undefined {
    if (this.external.size === 0) return undefined;
    try {
      const start = token.indexOf('.') + 1;
      const json = Buffer.from(token.slice(start, token.indexOf('.', start)), 'base64url');
      const iss: unknown = (JSON.parse(json.toString()) as { iss?: unknown }).iss;
      return typeof iss === 'string' ? this.external.get(iss) : undefined;
    } catch {
      return undefined; // not a JWT: our own verification fails with the usual message
    }
  }

  /**
   * Issues a token with a random 128-bit `jti` and an `iat` to the millisecond, so that a
   * "log out everywhere" cut-off orders tokens within one second (RFC 7519 §2 NumericDate). The
   * `iat` is this clock's: a token is never dated ahead, so every cut-off that reaches the
   * tolerated skew past its own clock covers it. Just after the store lost its data the
   * store-wide not-before can be ahead of the clock, and a token signed then is born revoked:
   * {@link issue} waits for it to pass.
   */
  sign(sub: string, extraClaims: Record<string, unknown> = {}): IssuedToken {
    const { sid } = extraClaims;
    if (sid !== undefined && !isRevocationId(sid)) {
      // A token with it would never verify; refuse it here, where the bug is.
      throw new InvalidInputError('sid must be 1-256 printable characters');
    }
    if (sub.startsWith('~') || (typeof sid === 'string' && sid.startsWith('~'))) {
      // Reserved for external issuers' ids (docs/design.md, "External issuers").
      throw new InvalidInputError('sub and sid must not start with ~');
    }
    const nowMs = this.clock.now();
    const iat = nowMs / 1000;
    const claims: AccessTokenClaims = {
      ...extraClaims,
      sub,
      jti: randomBytes(16).toString('base64url'),
      iat,
      exp: Math.floor(iat) + this.ttlSeconds,
      iatMs: nowMs,
    };
    const { iatMs: _omit, ...payload } = claims;
    return { token: this.jwt.sign(payload), claims, expiresIn: this.ttlSeconds };
  }

  /**
   * {@link sign} once the clock has passed the store-wide not-before (right after a store loss it
   * is up to the tolerated skew ahead), so that the token is not born revoked. Waits at most
   * twice the skew, the furthest a not-before raised by a faster clock can be ahead of ours.
   */
  async issue(sub: string, extraClaims: Record<string, unknown> = {}): Promise<IssuedToken> {
    await this.untilHydrated();
    const notBeforeMs = this.revocations?.notBeforeMs ?? 0;
    const deadline = this.clock.now() + 2 * this.clockSkewMs;
    while (this.clock.now() <= notBeforeMs && this.clock.now() < deadline) {
      const leftMs = Math.min(notBeforeMs + 1, deadline) - this.clock.now();
      await new Promise((resolve) => setTimeout(resolve, Math.max(1, leftMs)));
    }
    return this.sign(sub, extraClaims);
  }

  /**
   * Waits for the replica's first read of the store: until then it does not know the store-wide
   * not-before, which a new or emptied store sets ahead of the clock (docs/design.md, "Store
   * loss"), and a token issued meanwhile could be born revoked. Polled, for at most
   * {@link HYDRATION_WAIT_MS}; the module's clock is not read, since a test clock may stand still.
   * @throws NotInSyncError (503 with `Retry-After`) when the replica has not read it by then
   */
  private async untilHydrated(): Promise<void> {
    for (
      let waited = 0;
      this.sync !== undefined && !this.sync.hydrated;
      waited += HYDRATION_POLL_MS
    ) {
      if (waited >= HYDRATION_WAIT_MS) throw new NotInSyncError();
      await new Promise((resolve) => setTimeout(resolve, HYDRATION_POLL_MS));
    }
  }

  /** The verifier of the token's `kid`; with a single key, that key whatever the header says. */
  private verifierFor(token: string): JwtService {
    if (this.verifiers.size === 0) return this.jwt;
    let kid: unknown;
    try {
      const header = JSON.parse(
        Buffer.from(token.slice(0, token.indexOf('.')), 'base64url').toString(),
      );
      kid = (header as { kid?: unknown }).kid;
    } catch {
      return this.jwt; // not a JWT: verification fails below with the usual message
    }
    return (typeof kid === 'string' && this.verifiers.get(kid)) || this.jwt;
  }

  /**
   * Verifies signature, algorithm, expiry and the claims revocation depends on; a token that
   * verified before is only checked for expiry (see {@link verified}). A token whose `iss` is an
   * external issuer's is verified by that issuer's keys only, asynchronously the first time;
   * every other token by ours only, so that no token can pass for the other kind.
   * @throws TokenInvalidError with a description fit for `error_description`
   */
  verify(token: string): AccessTokenClaims | Promise<AccessTokenClaims> {
    const known = this.verified?.get(token);
    if (known === undefined) {
      const external = this.externalFor(token);
      if (external !== undefined) {
        if (hasRepeatedClaim(token))
          throw new TokenInvalidError('The access token repeats a claim');
        return external.verify(token).then((claims) => {
          this.verified?.set(token, claims);
          return claims;
        });
      }
      const claims = this.verifyFully(token);
      this.verified?.set(token, claims);
      return claims;
    }
    // As jsonwebtoken decides it: expired from the second `exp` names.
    if (Math.floor(this.clock.now() / 1000) >= known.exp) {
      this.verified?.delete(token);
      throw new TokenInvalidError(EXPIRED);
    }
    return known;
  }

  /**
   * {@link verify} for our own tokens only, synchronously: an external issuer's token fails.
   * @throws TokenInvalidError with a description fit for `error_description`
   */
  verifyOwn(token: string): AccessTokenClaims {
    if (this.externalFor(token) !== undefined) {
      throw new TokenInvalidError('The access token is not one of ours');
    }
    return this.verify(token) as AccessTokenClaims; // synchronous for any other token
  }

  private verifyFully(token: string): AccessTokenClaims {
    let decoded: { header: Record<string, unknown>; payload: Record<string, unknown> };
    try {
      decoded = this.verifierFor(token).verify<typeof decoded>(token);
    } catch (error) {
      const name = error instanceof Error ? error.name : '';
      throw new TokenInvalidError(
        name === 'TokenExpiredError'
          ? EXPIRED
          : name === 'NotBeforeError'
            ? 'The access token is not valid yet'
            : 'The access token is malformed or its signature is invalid',
      );
    }
    // RFC 7515 §4.1.11: we understand no critical extension, so a token that lists one is invalid.
    if (decoded.header['crit'] !== undefined) {
      throw new TokenInvalidError('The access token uses an unsupported critical header');
    }
    if (hasRepeatedClaim(token)) {
      throw new TokenInvalidError('The access token repeats a claim');
    }
    const payload =
      typeof decoded.payload === 'object' && decoded.payload !== null ? decoded.payload : {};
    const { sub, jti, iat, exp, sid } = payload;
    // An external issuer's ids start with `~` (docs/design.md, "External issuers"); ours never do.
    if ([sub, jti, sid].some((id) => typeof id === 'string' && id.startsWith('~'))) {
      throw new TokenInvalidError('The access token has an id reserved for external issuers');
    }
    if (!isRevocationId(jti)) throw new TokenInvalidError('The access token has no valid jti');
    if (!isRevocationId(sub)) throw new TokenInvalidError('The access token has no valid sub');
    // Optional (tokens issued before sessions have none), but when present it is what the
    // session's revocation is looked up by, so it must be a revocation id like jti and sub.
    if (sid !== undefined && !isRevocationId(sid)) {
      throw new TokenInvalidError('The access token has no valid sid');
    }
    if (typeof iat !== 'number' || !Number.isFinite(iat)) {
      throw new TokenInvalidError('The access token has no valid iat');
    }
    if (typeof exp !== 'number' || !Number.isFinite(exp)) {
      throw new TokenInvalidError('The access token has no valid exp');
    }
    if (iat * 1000 > this.clock.now() + this.clockSkewMs) {
      throw new TokenInvalidError('The access token was issued in the future');
    }
    if (exp - iat > this.ttlSeconds + LIFETIME_SLACK_SECONDS) {
      throw new TokenInvalidError('The access token outlives the maximum lifetime');
    }
    // Frozen: the same claims serve every later request that presents this token.
    return Object.freeze({ ...payload, sub, jti, iat, exp, iatMs: issuedAtMs(iat) });
  }
}
