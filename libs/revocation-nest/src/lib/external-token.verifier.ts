import { Logger } from '@nestjs/common';
import { type CryptoKey, errors, jwtVerify, type JWTHeaderParameters } from 'jose';
import {
  type Clock,
  isRevocationId,
  issuedAtMs,
  MAX_ID_LENGTH,
  TokenInvalidError,
} from '@rescind/revocation-core';
import { type AccessTokenClaims } from './access-token-claims';
import { EXTERNAL_ALGORITHMS, type ExternalAlgorithm, IssuerKeySet } from './issuer-key-set';
import { type ResolvedExternalIssuer } from './revocation-module-options';

/** RFC 9068 §2.1 `typ`, or the generic one (RFC 7519 §5.1) many providers still send. */
const ACCEPTED_TYPES: ReadonlySet<string> = new Set(['at+jwt', 'application/at+jwt', 'jwt']);

/** Tolerated disagreement between `exp - iat` and the configured lifetime (rounding). */
const LIFETIME_SLACK_SECONDS = 1;

const INVALID = 'The access token is malformed or its signature is invalid';

/** Limits an external token is held to, the same as our own tokens'. */
export interface ExternalTokenLimits {
  readonly clockSkewMs: number;
  readonly accessTokenTtlSeconds: number;
}

/**
 * Verifies the access tokens of one OpenID provider with `jose` and the keys of its JWKS, and
 * namespaces their `jti`, `sub` and `sid` (docs/design.md, "External issuers"). Only asymmetric
 * algorithms are accepted, so a token "signed" with the provider's public key as an HMAC secret,
 * or with `alg: none`, fails before any key is looked up.
 */
export class ExternalTokenVerifier {
  /** The issuer's keys. */
  readonly keys: IssuerKeySet;

  constructor(
    readonly issuer: ResolvedExternalIssuer,
    private readonly clock: Clock,
    private readonly limits: ExternalTokenLimits,
  ) {
    const log = new Logger('ExternalIssuer');
    let lastWarnMs = 0;
    this.keys = new IssuerKeySet({
      issuer: issuer.issuer,
      cooldownMs: issuer.jwksCooldownMs,
      fetchTimeoutMs: issuer.fetchTimeoutMs,
      onError: (error) => {
        // Rate-limited: a down provider must not flood the log, one line in ten seconds says it.
        if (Date.now() - lastWarnMs < 10_000) return;
        lastWarnMs = Date.now();
        const reason = error instanceof Error ? error.message : String(error);
        log.warn(`fetching the keys of ${issuer.issuer} failed (keys held are kept): ${reason}`);
      },
    });
  }

  /**
   * The token's claims, `jti`, `sub` and `sid` prefixed with the issuer's tag.
   * @throws TokenInvalidError with a description fit for `error_description`
   */
  async verify(token: string): Promise<AccessTokenClaims> {
    let payload: Record<string, unknown>;
    let header: JWTHeaderParameters;
    try {
      ({ payload, protectedHeader: header } = await jwtVerify(
        token,
        (h: JWTHeaderParameters) => this.keyFor(h),
        {
          issuer: this.issuer.issuer,
          audience: this.issuer.audience,
          algorithms: [...EXTERNAL_ALGORITHMS],
          currentDate: new Date(this.clock.now()),
          clockTolerance: 0,
          requiredClaims: ['exp', 'iat'],
        },
      ));
    } catch (error) {
      throw new TokenInvalidError(describe(error));
    }
    const typ = header.typ;
    if (typ !== undefined && !ACCEPTED_TYPES.has(typ.toLowerCase())) {
      throw new TokenInvalidError('The access token has an unexpected typ');
    }
    // RFC 8417 §4.3: an `events` claim makes it a security event token, e.g. a back-channel
    // logout token (docs/design.md, "Back-channel logout"), never an access token.
    if (Object.hasOwn(payload, 'events')) {
      throw new TokenInvalidError('The access token is a security event token');
    }
    const { sub, iat, exp, sid } = payload as Record<string, number | string | undefined>;
    const jti = payload[this.issuer.tokenIdClaim];
    const room = MAX_ID_LENGTH - this.issuer.idPrefix.length;
    const id = (value: unknown): value is string => isRevocationId(value) && value.length <= room;
    if (!id(jti)) {
      throw new TokenInvalidError(`The access token has no valid ${this.issuer.tokenIdClaim}`);
    }
    if (!id(sub)) throw new TokenInvalidError('The access token has no valid sub');
    if (sid !== undefined && !id(sid))
      throw new TokenInvalidError('The access token has no valid sid');
    if (typeof iat !== 'number' || typeof exp !== 'number') {
      throw new TokenInvalidError('The access token has no valid iat or exp');
    }
    if (iat * 1000 > this.clock.now() + this.limits.clockSkewMs) {
      throw new TokenInvalidError('The access token was issued in the future');
    }
    if (exp - iat > this.limits.accessTokenTtlSeconds + LIFETIME_SLACK_SECONDS) {
      throw new TokenInvalidError('The access token outlives the maximum lifetime');
    }
    const prefix = this.issuer.idPrefix;
    return Object.freeze({
      ...payload,
      sub: prefix + sub,
      jti: prefix + jti,
      ...(sid === undefined ? {} : { sid: prefix + sid }),
      iat,
      exp,
      iatMs: issuedAtMs(iat),
    });
  }

  private async keyFor(header: JWTHeaderParameters): Promise<CryptoKey> {
    const key = await this.keys.key(header.kid, header.alg as ExternalAlgorithm);
    if (key === undefined)
      throw new TokenInvalidError('The access token is signed with an unknown key');
    return key;
  }
}

function describe(error: unknown): string {
  if (error instanceof TokenInvalidError) return error.message;
  if (error instanceof errors.JWTExpired) return 'The access token expired';
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'nbf') return 'The access token is not valid yet';
    if (error.claim === 'iss') return 'The access token has another issuer';
    if (error.claim === 'aud') return 'The access token is meant for another audience';
    return `The access token has no valid ${error.claim}`;
  }
  return INVALID;
}
