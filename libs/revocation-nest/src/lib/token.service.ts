import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import {
  isRevocationId,
  type Clock,
  systemClock,
  TokenInvalidError,
} from '@rescind/revocation-core';
import { type AccessTokenClaims } from './access-token-claims';
import { REVOCATION_OPTIONS } from './revocation.constants';
import { type ResolvedRevocationOptions } from './revocation-module-options';

/** An issued access token. */
export interface IssuedToken {
  readonly token: string;
  readonly claims: AccessTokenClaims;
  /** Seconds until it expires. */
  readonly expiresIn: number;
}

/** Tolerated disagreement between `exp - iat` and the configured lifetime (rounding). */
const LIFETIME_SLACK_SECONDS = 1;

/**
 * Signs and verifies access tokens with `@nestjs/jwt`. The key is a `KeyObject`, so it is not
 * re-derived on every call, and the algorithm is pinned: `alg: none` and any other algorithm
 * fail verification.
 */
@Injectable()
export class TokenService {
  private readonly jwt: JwtService;
  private readonly ttlSeconds: number;
  private clock: Clock = systemClock;

  constructor(@Inject(REVOCATION_OPTIONS) options: ResolvedRevocationOptions) {
    this.ttlSeconds = options.accessTokenTtlSeconds;
    this.jwt = new JwtService({
      secret: options.jwtKey,
      signOptions: { algorithm: options.jwtAlgorithm },
      verifyOptions: { algorithms: [options.jwtAlgorithm] },
    });
  }

  /** Replaces the clock (tests). */
  useClock(clock: Clock): void {
    this.clock = clock;
  }

  /**
   * Issues a token with a random 128-bit `jti` and an `iat` to the millisecond, so that a
   * "log out everywhere" cut-off orders tokens within one second (RFC 7519 §2 NumericDate).
   */
  sign(sub: string, extraClaims: Record<string, unknown> = {}): IssuedToken {
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
   * Verifies signature, algorithm, expiry and the claims revocation depends on.
   * @throws TokenInvalidError with a description fit for `error_description`
   */
  verify(token: string): AccessTokenClaims {
    let payload: Record<string, unknown>;
    try {
      payload = this.jwt.verify<Record<string, unknown>>(token);
    } catch (error) {
      const name = error instanceof Error ? error.name : '';
      throw new TokenInvalidError(
        name === 'TokenExpiredError'
          ? 'The access token expired'
          : name === 'NotBeforeError'
            ? 'The access token is not valid yet'
            : 'The access token is malformed or its signature is invalid',
      );
    }
    const { sub, jti, iat, exp } = payload;
    if (!isRevocationId(jti)) throw new TokenInvalidError('The access token has no valid jti');
    if (!isRevocationId(sub)) throw new TokenInvalidError('The access token has no valid sub');
    if (typeof iat !== 'number' || !Number.isFinite(iat)) {
      throw new TokenInvalidError('The access token has no valid iat');
    }
    if (typeof exp !== 'number' || !Number.isFinite(exp)) {
      throw new TokenInvalidError('The access token has no valid exp');
    }
    if (iat * 1000 > this.clock.now() + LIFETIME_SLACK_SECONDS * 1000) {
      throw new TokenInvalidError('The access token was issued in the future');
    }
    if (exp - iat > this.ttlSeconds + LIFETIME_SLACK_SECONDS) {
      throw new TokenInvalidError('The access token outlives the maximum lifetime');
    }
    return { ...payload, sub, jti, iat, exp, iatMs: Math.round(iat * 1000) };
  }
}
