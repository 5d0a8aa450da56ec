import { Inject, Injectable } from '@nestjs/common';
import {
  type Clock,
  NotInSyncError,
  RevocationCache,
  RevocationSynchronizer,
  RevocationVerdict,
  TokenRevokedError,
} from '@rescind/revocation-core';
import { type AccessTokenClaims } from './access-token-claims';
import { RevocationChecker } from './revocation.checker';
import { REVOCATION_CLOCK, REVOCATION_OPTIONS } from './revocation.constants';
import { RevocationMetrics } from './revocation-metrics';
import { StoreRevocationLookup } from './store-revocation.lookup';
import { type ResolvedRevocationOptions } from './revocation-module-options';

/**
 * The product's checker: the in-memory cache, no I/O unless it overflowed. The default
 * `RevocationChecker`; benchmarks may override it (`RevocationModuleWiring.checker`).
 */
@Injectable()
export class LocalRevocationChecker extends RevocationChecker {
  private readonly failClosed: boolean;

  constructor(
    private readonly cache: RevocationCache,
    private readonly sync: RevocationSynchronizer,
    private readonly lookup: StoreRevocationLookup,
    private readonly metrics: RevocationMetrics,
    @Inject(REVOCATION_OPTIONS) options: ResolvedRevocationOptions,
    @Inject(REVOCATION_CLOCK) private readonly clock: Clock,
  ) {
    super();
    this.failClosed = options.failMode === 'closed';
  }

  override check(claims: AccessTokenClaims): true | Promise<true> {
    const now = this.clock.now();
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

  /** The cache evicted entries, so a miss must be confirmed by the store (docs/design.md, "Bounded cache"). */
  private askStore(claims: AccessTokenClaims): Promise<true> {
    this.metrics.overflowLookups.inc();
    return this.lookup.check(claims);
  }
}
