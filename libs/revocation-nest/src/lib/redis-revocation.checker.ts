import { Inject, Injectable } from '@nestjs/common';
import { NotInSyncError, TokenRevokedError } from '@rescind/revocation-core';
import { RevocationStore } from '@rescind/revocation-redis';
import { type AccessTokenClaims } from './access-token-claims';
import { RevocationChecker } from './revocation.checker';
import { REVOCATION_OPTIONS } from './revocation.constants';
import { RevocationMetrics } from './revocation-metrics';
import { type ResolvedRevocationOptions } from './revocation-module-options';

/** `REVOCATION_STRATEGY=redis`: one store lookup per request (the textbook guard, for benchmarks). */
@Injectable()
export class RedisRevocationChecker extends RevocationChecker {
  private readonly failClosed: boolean;

  constructor(
    private readonly store: RevocationStore,
    private readonly metrics: RevocationMetrics,
    @Inject(REVOCATION_OPTIONS) options: ResolvedRevocationOptions,
  ) {
    super();
    this.failClosed = options.failMode === 'closed';
  }

  override async check(claims: AccessTokenClaims): Promise<true> {
    let revoked: boolean;
    try {
      revoked = await this.store.isRevoked(claims);
    } catch {
      if (this.failClosed) throw new NotInSyncError();
      revoked = false;
    }
    if (revoked) {
      this.metrics.revoked.inc();
      throw new TokenRevokedError();
    }
    this.metrics.accepted.inc();
    return true;
  }
}
