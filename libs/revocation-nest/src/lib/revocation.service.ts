import { Inject, Injectable } from '@nestjs/common';
import {
  type CheckedClaims,
  type Clock,
  InvalidInputError,
  RevocationVerdict,
  isRevocationId,
  RevocationCache,
  RevocationSynchronizer,
  StoreUnavailableError,
  type Milliseconds,
  type Revocation,
  type RevocationEvent,
  type RevocationLimits,
  type SessionRevocation,
  sessionRevocation,
  tokenRevocation,
  type UserRevocation,
  userRevocation,
} from '@rescind/revocation-core';
import {
  type RevocationAudit,
  type ListPosition,
  type RevocationRecord,
  RevocationStore,
} from '@rescind/revocation-redis';
import { REVOCATION_CLOCK, REVOCATION_OPTIONS } from './revocation.constants';
import { type ResolvedRevocationOptions } from './revocation-module-options';

/** What a revocation call recorded. */
export interface RevocationReceipt {
  readonly kind: Revocation['kind'];
  readonly id: string;
  /** When it took effect. */
  readonly atMs: Milliseconds;
  /** When it stops mattering (the revoked tokens have expired by then). */
  readonly expiresAtMs: Milliseconds;
}

/**
 * Revokes tokens, sessions and users. Each call writes the store atomically and applies the revocation to
 * this replica's cache before it returns (read your revocation); other replicas learn of it by
 * pub/sub and, failing that, by catch-up from the log.
 */
@Injectable()
export class RevocationService {
  private readonly limits: RevocationLimits;

  constructor(
    private readonly store: RevocationStore,
    private readonly cache: RevocationCache,
    private readonly sync: RevocationSynchronizer,
    @Inject(REVOCATION_OPTIONS) options: ResolvedRevocationOptions,
    @Inject(REVOCATION_CLOCK) private readonly clock: Clock,
  ) {
    this.limits = {
      accessTokenTtlMs: options.accessTokenTtlSeconds * 1000,
      clockSkewMs: options.clockSkewMs,
    };
  }

  /**
   * Revokes one token until it expires.
   * @param expiresAtMs the token's `exp` in ms, as `claims.exp * 1000` (fractions allowed);
   *   defaults to the longest lifetime a token we accept can have left
   */
  async revokeToken(
    jti: string,
    expiresAtMs?: Milliseconds,
    audit: RevocationAudit = {},
  ): Promise<RevocationReceipt> {
    if (!isRevocationId(jti)) throw new InvalidInputError('jti must be 1-256 printable characters');
    if (expiresAtMs !== undefined && !Number.isFinite(expiresAtMs)) {
      throw new InvalidInputError('exp must be a finite number');
    }
    const exp = expiresAtMs === undefined ? undefined : expiresAtMs / 1000;
    const revocation = tokenRevocation(jti, exp, this.clock.now(), this.limits);
    return this.recorded(revocation, await this.record(revocation, audit));
  }

  /**
   * Revokes every access token of one session (`sid`), whenever issued, until the last of them
   * has expired (see {@link sessionRevocation}). Ending the session itself (its refresh token)
   * is the session store's business; this is the revocation every replica applies.
   */
  async revokeSession(sid: string, audit: RevocationAudit = {}): Promise<RevocationReceipt> {
    if (!isRevocationId(sid)) throw new InvalidInputError('sid must be 1-256 printable characters');
    const revocation = this.sessionRevocation(sid);
    return this.recorded(revocation, await this.record(revocation, audit));
  }

  /**
   * Revokes every token of `sub` issued up to now (the cut-off covers the tolerated clock skew,
   * see {@link userRevocation}). Returns only once our clock has passed the cut-off, so a token
   * issued after the call returns is never caught by it, even within the same millisecond.
   */
  async revokeAllForUser(sub: string, audit: RevocationAudit = {}): Promise<RevocationReceipt> {
    if (!isRevocationId(sub)) throw new InvalidInputError('sub must be 1-256 printable characters');
    const revocation = this.userRevocation(sub);
    return this.recorded(revocation, await this.record(revocation, audit));
  }

  /**
   * The end of session `sid` as this replica takes it now. For a script that ends a session and
   * records its revocation in one go (`revokeScriptArguments` and the `recordRevocation` Lua
   * include of revocation-redis); hand what it recorded to {@link recorded}.
   */
  sessionRevocation(sid: string): SessionRevocation {
    return sessionRevocation(sid, this.clock.now(), this.limits);
  }

  /** "Log out everywhere" for `sub` as this replica takes it now; see {@link sessionRevocation}. */
  userRevocation(sub: string): UserRevocation {
    return userRevocation(sub, this.clock.now(), this.limits, this.cache.notBeforeMs);
  }

  /**
   * Finishes a revocation the store recorded: applies it to this replica's cache before the
   * caller answers (read your revocation) and, for a user cut-off, returns only once this clock
   * has passed the cut-off, so that a token issued after the call returns is never caught by it,
   * even within the same millisecond.
   * @param event what the store logged, or `null` when it already covered the revocation
   */
  async recorded(
    revocation: Revocation,
    event: RevocationEvent | null,
  ): Promise<RevocationReceipt> {
    if (event === null) this.cache.add(revocation, this.clock.now());
    else this.sync.applyLocal(event);
    const { kind, id, expiresAtMs } = revocation;
    if (revocation.kind !== 'user') return { kind, id, atMs: revocation.createdAtMs, expiresAtMs };
    const { cutoffMs } = revocation;
    const waitMs = cutoffMs - this.clock.now();
    if (waitMs > 1) await new Promise((resolve) => setTimeout(resolve, waitMs - 1));
    while (this.clock.now() <= cutoffMs) await new Promise((resolve) => setImmediate(resolve));
    return { kind, id, atMs: cutoffMs, expiresAtMs };
  }

  /** Authoritative check (for introspection, not the hot path): the cache, then the store. */
  async isRevoked(claims: CheckedClaims): Promise<boolean> {
    if (this.cache.check(claims, this.clock.now()) === RevocationVerdict.Revoked) return true;
    try {
      return await this.store.isRevoked(claims);
    } catch (error) {
      throw new StoreUnavailableError(error);
    }
  }

  /** A page of live revocations with their audit trail, ordered by expiry. */
  async list(
    limit: number,
    after?: ListPosition,
  ): Promise<{ items: RevocationRecord[]; next?: ListPosition }> {
    try {
      return await this.store.list(limit, after);
    } catch (error) {
      throw new StoreUnavailableError(error);
    }
  }

  private async record(
    revocation: Revocation,
    audit: RevocationAudit,
  ): Promise<RevocationEvent | null> {
    try {
      return await this.store.revoke(revocation, audit);
    } catch (error) {
      throw new StoreUnavailableError(error);
    }
  }
}
