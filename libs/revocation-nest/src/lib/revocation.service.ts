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
  type RevocationLimits,
  tokenRevocation,
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
 * Revokes tokens and users. Each call writes the store atomically and applies the revocation to
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
    await this.record(revocation, audit);
    const { createdAtMs: atMs } = revocation;
    return { kind: 'token', id: jti, atMs, expiresAtMs: revocation.expiresAtMs };
  }

  /**
   * Revokes every token of `sub` issued up to now (the cut-off covers the tolerated clock skew,
   * see {@link userRevocation}). Returns only once our clock has passed the cut-off, so a token
   * issued after the call returns is never caught by it, even within the same millisecond.
   */
  async revokeAllForUser(sub: string, audit: RevocationAudit = {}): Promise<RevocationReceipt> {
    if (!isRevocationId(sub)) throw new InvalidInputError('sub must be 1-256 printable characters');
    const revocation = userRevocation(sub, this.clock.now(), this.limits, this.cache.notBeforeMs);
    const { cutoffMs } = revocation;
    await this.record(revocation, audit);
    const waitMs = cutoffMs - this.clock.now();
    if (waitMs > 1) await new Promise((resolve) => setTimeout(resolve, waitMs - 1));
    while (this.clock.now() <= cutoffMs) await new Promise((resolve) => setImmediate(resolve));
    return { kind: 'user', id: sub, atMs: cutoffMs, expiresAtMs: revocation.expiresAtMs };
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

  private async record(revocation: Revocation, audit: RevocationAudit): Promise<void> {
    let event;
    try {
      event = await this.store.revoke(revocation, audit);
    } catch (error) {
      throw new StoreUnavailableError(error);
    }
    if (event === null) this.cache.add(revocation, this.clock.now());
    else this.sync.applyLocal(event);
  }
}
