import { Inject, Injectable } from '@nestjs/common';
import { type Clock } from '@rescind/revocation-core';
import { type RevocationAudit, RevocationStore } from '@rescind/revocation-redis';
import {
  LogoutTokenInvalidError,
  LogoutTokenVerifier,
  logoutReplayScope,
  type VerifiedLogoutToken,
} from './logout-token.verifier';
import { REVOCATION_CLOCK, REVOCATION_OPTIONS } from './revocation.constants';
import { type ResolvedRevocationOptions } from './revocation-module-options';
import { type RevocationReceipt, RevocationService } from './revocation.service';
import { TokenService } from './token.service';

/** What a logout token ended. */
export interface BackChannelLogoutResult {
  /** `session` when the token had a `sid`, `user` when it had only a `sub`. */
  readonly kind: 'session' | 'user';
  /** The provider's own id (its `sid`, or its `sub`). */
  readonly providerId: string;
  /** The `iss` of the provider. */
  readonly issuer: string;
  /** The revocation recorded, under the namespaced id. */
  readonly receipt: RevocationReceipt;
}

/**
 * OpenID Connect Back-Channel Logout 1.0 for the configured external issuers (docs/design.md,
 * "Back-channel logout"): a logout token that validates revokes the provider's session (its
 * `sid`) or, with only a `sub`, every token of that user issued up to now, under the issuer's
 * namespace, on this replica before the call returns and on the others by the usual fan-out.
 */
@Injectable()
export class BackChannelLogoutService {
  private readonly verifier: LogoutTokenVerifier;
  /** Whether any issuer can take logout tokens (one with a client id). */
  private readonly enabled: boolean;

  constructor(
    tokens: TokenService,
    private readonly revocations: RevocationService,
    private readonly store: RevocationStore,
    @Inject(REVOCATION_OPTIONS) options: ResolvedRevocationOptions,
    @Inject(REVOCATION_CLOCK) clock: Clock,
  ) {
    this.enabled = options.externalIssuers.some((issuer) => issuer.clientId !== undefined);
    this.verifier = new LogoutTokenVerifier({
      issuer: (iss) => tokens.externalIssuer(iss),
      clock,
      clockSkewMs: options.clockSkewMs,
      replay: store,
    });
  }

  /**
   * Validates the logout token (§2.6) and applies it. With both `sid` and `sub` the session
   * alone ends: §2.4 has `sid` name the session, and `sub` widen a logout only without one;
   * unless the issuer's `logoutRevokes` is `user`, whose access tokens carry no `sid`: then the
   * user's cut-off, whenever the token has a `sub`.
   * @throws LogoutTokenInvalidError (an `InvalidInputError`) with a description fit for
   *   `error_description`, also when no issuer is configured for back-channel logout
   * @throws StoreUnavailableError when the store cannot take the replay check or the revocation
   */
  async logout(logoutToken: string): Promise<BackChannelLogoutResult> {
    if (!this.enabled) {
      throw new LogoutTokenInvalidError(
        'Back-channel logout is not configured (no OpenID provider with a client id)',
      );
    }
    const verified = await this.verifier.verify(logoutToken);
    try {
      return await this.apply(verified);
    } catch (error) {
      // Its jti was claimed: give the claim back, so that the provider's retry of this token is
      // applied rather than refused as a replay (docs/design.md, "Back-channel logout").
      await this.store
        .releaseClaim(logoutReplayScope(verified.issuer), verified.jti)
        .catch(() => undefined);
      throw error;
    }
  }

  private async apply({ issuer, sid, sub }: VerifiedLogoutToken): Promise<BackChannelLogoutResult> {
    const audit: RevocationAudit = { reason: 'backchannel-logout', actor: issuer.issuer };
    // An issuer whose access tokens carry no `sid` (logoutRevokes 'user') cannot have a session
    // revoked: its user's cut-off is, when the token names one (docs/design.md, "External issuers").
    if (sid !== undefined && (issuer.logoutRevokes === 'session' || sub === undefined)) {
      const receipt = await this.revocations.revokeSession(issuer.idPrefix + sid, audit);
      return { kind: 'session', providerId: sid, issuer: issuer.issuer, receipt };
    }
    const providerId = sub as string; // the verifier lets no token through without either
    const receipt = await this.revocations.revokeAllForUser(issuer.idPrefix + providerId, audit);
    return { kind: 'user', providerId, issuer: issuer.issuer, receipt };
  }
}
