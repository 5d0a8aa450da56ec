import { Inject, Injectable } from '@nestjs/common';
import {
  NotInSyncError,
  RevocationCache,
  RevocationSynchronizer,
  RevocationVerdict,
  TokenRevokedError,
} from '@rescind/revocation-core';
import { type AccessTokenClaims } from './access-token-claims';
import { RevocationChecker } from './revocation.checker';
import { REVOCATION_OPTIONS } from './revocation.constants';
import { RevocationMetrics } from './revocation-metrics';
import { StoreRevocationLookup } from './store-revocation.lookup';
import { type ResolvedRevocationOptions } from './revocation-module-options';

/** `REVOCATION_STRATEGY=local`: the in-memory cache, no I/O unless it overflowed. */
@Injectable()
export class LocalRevocationChecker extends RevocationChecker {
  private readonly failClosed: boolean;

  constructor(
    private readonly cache: RevocationCache,
    private readonly sync: RevocationSynchronizer,
    private readonly lookup: StoreRevocationLookup,
    private readonly metrics: RevocationMetrics,
    @Inject(REVOCATION_OPTIONS) options: ResolvedRevocationOptions,
  ) {
    super();
    this.failClosed = options.failMode === 'closed';
  }

  override check(claims: AccessTokenClaims): true | Promise<true> {
    const now = Date.now();
    if (this.sync.isStale(now) && (this.failClosed || !this.sync.hydrated)) {
      throw new NotInSyncError();
    }
    const verdict = this.cache.check(claims, now);
    if (verdict === RevocationVerdict.Accepted) {
      this.metrics.accepted.inc();
      return true;
    }
    if (verdict === RevocationVerdict.Revoked) {
      this.metrics.revoked.inc();
      throw new TokenRevokedError();
    }
    return this.askStore(claims);
  }

  /** The cache evicted entries, so a miss must be confirmed by the store (hard part 7). */
  private askStore(claims: AccessTokenClaims): Promise<true> {
    this.metrics.overflowLookups.inc();
    return this.lookup.check(claims);
  }
}
