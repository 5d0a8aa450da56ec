import { type CryptoKey, errors, jwtVerify, type JWTHeaderParameters } from 'jose';
import {
  type Clock,
  InvalidInputError,
  isRevocationId,
  MAX_ID_LENGTH,
  type Milliseconds,
  StoreUnavailableError,
} from '@rescind/revocation-core';
import { type ExternalTokenVerifier } from './external-token.verifier';
import { EXTERNAL_ALGORITHMS, type ExternalAlgorithm } from './issuer-key-set';
import { hasDuplicateMember } from './json-member-names';
import { type ResolvedExternalIssuer } from './revocation-module-options';

/** The event a logout token carries (OpenID Connect Back-Channel Logout 1.0 §2.4). */
export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/**
 * How old a logout token may be (its `iat`), beyond the tolerated clock skew: the provider sends
 * it when the user logs out, so a token older than this is a replay or a stuck queue, not a
 * logout (Back-Channel Logout 1.0 §2.6 step 7 leaves the bound to us; docs/design.md,
 * "Back-channel logout").
 */
export const LOGOUT_TOKEN_MAX_AGE_MS: Milliseconds = 120_000;

/**
 * `typ` values accepted: `logout+jwt` (Back-Channel Logout 1.0 §2.4, with or without the
 * `application/` of RFC 7515 §4.1.9), or the generic `JWT` that §2.4 still allows providers.
 */
const ACCEPTED_TYPES: ReadonlySet<string> = new Set([
  'logout+jwt',
  'application/logout+jwt',
  'jwt',
  'application/jwt',
]);

const INVALID = 'The logout token is malformed or its signature is invalid';

/** A logout token that fails validation (answered 400 `invalid_request`). */
export class LogoutTokenInvalidError extends InvalidInputError {}

/** Where the replay check keeps the `jti`s seen (the `RevocationStore`). */
export interface LogoutTokenReplayStore {
  /** True the first time `id` is claimed in `scope` across replicas, false afterwards. */
  claimOnce(scope: string, id: string, ttlMs: Milliseconds): Promise<boolean>;
}

/** A logout token that validated, with the provider's own (not namespaced) ids. */
export interface VerifiedLogoutToken {
  /** The provider that signed it. */
  readonly issuer: ResolvedExternalIssuer;
  readonly jti: string;
  /** The session at the provider that ended. */
  readonly sid?: string;
  /** The user at the provider. */
  readonly sub?: string;
}

/** What a {@link LogoutTokenVerifier} needs. */
export interface LogoutTokenVerifierOptions {
  /** The configured external issuer by its exact `iss`, undefined for any other. */
  readonly issuer: (iss: string) => ExternalTokenVerifier | undefined;
  readonly clock: Clock;
  /** How far ahead a token's `iat` may be (the module's `clockSkewMs`). */
  readonly clockSkewMs: Milliseconds;
  /** Where `jti`s are claimed once; without one no replay is detected (tests of the claims). */
  readonly replay?: LogoutTokenReplayStore;
}

/** The scope a provider's `jti`s are claimed in: its tag, so that providers never collide. */
export function logoutReplayScope(issuer: ResolvedExternalIssuer): string {
  return `bcl-${issuer.idPrefix.replaceAll('~', '')}`;
}

function claimsText(token: string): string | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  return Buffer.from(parts[1] as string, 'base64url').toString();
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Validates a logout token as OpenID Connect Back-Channel Logout 1.0 §2.6 asks (docs/design.md,
 * "Back-channel logout"): signed with an asymmetric algorithm by a key of the configured
 * issuer its unverified `iss` names, `aud` containing our client id, fresh, with a `jti`, the
 * back-channel logout event, a `sid` or a `sub`, and no `nonce`; then claims its `jti` once
 * across replicas (§2.6 step 10), so that a token posted again, to any replica, is refused.
 */
export class LogoutTokenVerifier {
  constructor(private readonly options: LogoutTokenVerifierOptions) {}

  /**
   * The token's issuer and ids.
   * @throws LogoutTokenInvalidError with a description fit for `error_description`
   * @throws StoreUnavailableError when the replay check cannot reach the store
   */
  async verify(token: string): Promise<VerifiedLogoutToken> {
    const text = claimsText(token);
    let unverified: unknown;
    try {
      unverified = text === undefined ? undefined : JSON.parse(text);
    } catch {
      unverified = undefined;
    }
    if (!isObject(unverified)) throw new LogoutTokenInvalidError(INVALID);
    // RFC 7519 §4: claim names are unique; JSON.parse would silently keep the last one.
    if (hasDuplicateMember(text as string)) {
      throw new LogoutTokenInvalidError('The logout token repeats a claim');
    }
    const { iss } = unverified;
    const verifier = typeof iss === 'string' ? this.options.issuer(iss) : undefined;
    if (verifier === undefined) {
      throw new LogoutTokenInvalidError('The logout token names an issuer not configured');
    }
    const { issuer } = verifier;
    if (issuer.clientId === undefined) {
      throw new LogoutTokenInvalidError(
        'Back-channel logout is not configured for this issuer (no client id)',
      );
    }
    const payload = await this.verifySignature(token, verifier, issuer.clientId);
    const claims = this.checkClaims(payload, issuer);
    await this.claimJti(issuer, claims.jti);
    return claims;
  }

  private async verifySignature(
    token: string,
    verifier: ExternalTokenVerifier,
    clientId: string,
  ): Promise<Record<string, unknown>> {
    try {
      const { payload, protectedHeader } = await jwtVerify(
        token,
        async (header: JWTHeaderParameters): Promise<CryptoKey> => {
          const key = await verifier.keys.key(header.kid, header.alg as ExternalAlgorithm);
          if (key === undefined) {
            throw new LogoutTokenInvalidError('The logout token is signed with an unknown key');
          }
          return key;
        },
        {
          issuer: verifier.issuer.issuer,
          audience: clientId,
          algorithms: [...EXTERNAL_ALGORITHMS],
          currentDate: new Date(this.options.clock.now()),
          clockTolerance: 0,
          requiredClaims: ['iat', 'jti'],
        },
      );
      const typ = protectedHeader.typ;
      if (typ !== undefined && !ACCEPTED_TYPES.has(typ.toLowerCase())) {
        throw new LogoutTokenInvalidError('The logout token has an unexpected typ');
      }
      return payload as Record<string, unknown>;
    } catch (error) {
      throw new LogoutTokenInvalidError(describe(error));
    }
  }

  /** §2.6 steps 4-9, after the signature, `iss`, `aud` and `exp` (steps 1-3) held. */
  private checkClaims(
    payload: Record<string, unknown>,
    issuer: ResolvedExternalIssuer,
  ): VerifiedLogoutToken {
    const { iat, jti, events, sid, sub } = payload;
    const nowMs = this.options.clock.now();
    const skewMs = this.options.clockSkewMs;
    if (typeof iat !== 'number' || !Number.isFinite(iat)) {
      throw new LogoutTokenInvalidError('The logout token has no valid iat');
    }
    if (iat * 1000 > nowMs + skewMs) {
      throw new LogoutTokenInvalidError('The logout token was issued in the future');
    }
    if (iat * 1000 < nowMs - LOGOUT_TOKEN_MAX_AGE_MS - skewMs) {
      throw new LogoutTokenInvalidError('The logout token is too old');
    }
    if (!isRevocationId(jti))
      throw new LogoutTokenInvalidError('The logout token has no valid jti');
    if (!isObject(events) || !Object.hasOwn(events, BACKCHANNEL_LOGOUT_EVENT)) {
      throw new LogoutTokenInvalidError('The logout token has no back-channel logout event');
    }
    if (!isObject(events[BACKCHANNEL_LOGOUT_EVENT])) {
      throw new LogoutTokenInvalidError('The back-channel logout event is not a JSON object');
    }
    // §2.4: a nonce would make it look like an ID token; it must not be there.
    if (Object.hasOwn(payload, 'nonce')) {
      throw new LogoutTokenInvalidError('The logout token must not have a nonce');
    }
    if (sid === undefined && sub === undefined) {
      throw new LogoutTokenInvalidError('The logout token has neither sid nor sub');
    }
    // Namespaced, as the ids of the provider's access tokens are (docs/design.md, "External issuers").
    const room = MAX_ID_LENGTH - issuer.idPrefix.length;
    const id = (value: unknown): value is string => isRevocationId(value) && value.length <= room;
    if (sid !== undefined && !id(sid)) {
      throw new LogoutTokenInvalidError('The logout token has no valid sid');
    }
    if (sub !== undefined && !id(sub)) {
      throw new LogoutTokenInvalidError('The logout token has no valid sub');
    }
    return {
      issuer,
      jti,
      ...(sid === undefined ? {} : { sid }),
      ...(sub === undefined ? {} : { sub }),
    } as VerifiedLogoutToken;
  }

  /**
   * §2.6 step 10: the `jti` once across replicas, for as long as a token with it could still be
   * accepted (its `iat` up to the skew ahead, then the maximum age and the skew behind).
   */
  private async claimJti(issuer: ResolvedExternalIssuer, jti: string): Promise<void> {
    const { replay, clockSkewMs } = this.options;
    if (replay === undefined) return;
    let first: boolean;
    try {
      first = await replay.claimOnce(
        logoutReplayScope(issuer),
        jti,
        LOGOUT_TOKEN_MAX_AGE_MS + 2 * clockSkewMs,
      );
    } catch (error) {
      throw new StoreUnavailableError(error);
    }
    if (!first) throw new LogoutTokenInvalidError('The logout token was replayed');
  }
}

function describe(error: unknown): string {
  if (error instanceof LogoutTokenInvalidError) return error.message;
  if (error instanceof errors.JWTExpired) return 'The logout token expired';
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'nbf') return 'The logout token is not valid yet';
    if (error.claim === 'iss') return 'The logout token has another issuer';
    if (error.claim === 'aud') return 'The logout token is meant for another client';
    return `The logout token has no valid ${error.claim}`;
  }
  return INVALID;
}
