import { Inject, Injectable } from '@nestjs/common';
import {
  type CheckedClaims,
  InvalidInputError,
  RevocationVerdict,
  isRevocationId,
  RevocationCache,
  RevocationSynchronizer,
  StoreUnavailableError,
  type Milliseconds,
  type Revocation,
} from '@rescind/revocation-core';
import {
  type RevocationAudit,
  type RevocationRecord,
  RevocationStore,
} from '@rescind/revocation-redis';
import { REVOCATION_OPTIONS } from './revocation.constants';
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
  private readonly maxTtlMs: Milliseconds;

  constructor(
    private readonly store: RevocationStore,
    private readonly cache: RevocationCache,
    private readonly sync: RevocationSynchronizer,
    @Inject(REVOCATION_OPTIONS) options: ResolvedRevocationOptions,
  ) {
    this.maxTtlMs = options.accessTokenTtlSeconds * 1000;
  }

  /**
   * Revokes one token until it expires.
   * @param expiresAtMs the token's `exp` in ms; defaults to the longest lifetime from now
   */
  async revokeToken(
    jti: string,
    expiresAtMs?: Milliseconds,
    audit: RevocationAudit = {},
  ): Promise<RevocationReceipt> {
    if (!isRevocationId(jti)) throw new InvalidInputError('jti must be 1-256 printable characters');
    const now = Date.now();
    const revocation: Revocation = {
      kind: 'token',
      id: jti,
      expiresAtMs: Math.min(expiresAtMs ?? now + this.maxTtlMs, now + this.maxTtlMs + 1000),
      createdAtMs: now,
    };
    await this.record(revocation, audit);
    return { kind: 'token', id: jti, atMs: now, expiresAtMs: revocation.expiresAtMs };
  }

  /**
   * Revokes every token of `sub` issued up to now. Returns only once the clock has moved past the
   * cut-off, so a token issued after the call returns is never caught by it, even within the
   * same millisecond.
   */
  async revokeAllForUser(sub: string, audit: RevocationAudit = {}): Promise<RevocationReceipt> {
    if (!isRevocationId(sub)) throw new InvalidInputError('sub must be 1-256 printable characters');
    const cutoffMs = Date.now();
    const revocation: Revocation = {
      kind: 'user',
      id: sub,
      cutoffMs,
      // A token issued at or before the cut-off expires at most one lifetime after it.
      expiresAtMs: cutoffMs + this.maxTtlMs + 1000,
      createdAtMs: cutoffMs,
    };
    await this.record(revocation, audit);
    while (Date.now() <= cutoffMs) await new Promise((resolve) => setImmediate(resolve));
    return { kind: 'user', id: sub, atMs: cutoffMs, expiresAtMs: revocation.expiresAtMs };
  }

  /** Authoritative check (for introspection, not the hot path): the cache, then the store. */
  async isRevoked(claims: CheckedClaims): Promise<boolean> {
    if (this.cache.check(claims, Date.now()) === RevocationVerdict.Revoked) return true;
    try {
      return await this.store.isRevoked(claims);
    } catch (error) {
      throw new StoreUnavailableError(error);
    }
  }

  /** A page of live revocations with their audit trail, ordered by expiry. */
  async list(limit: number, after?: string): Promise<{ items: RevocationRecord[]; next?: string }> {
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
    if (event === null) this.cache.add(revocation, Date.now());
    else this.sync.applyLocal(event);
  }
}
