import { Inject, Injectable } from '@nestjs/common';
import { NotInSyncError, TokenRevokedError } from '@rescind/revocation-core';
import { RevocationStore } from '@rescind/revocation-redis';
import { type AccessTokenClaims } from './access-token-claims';
import { REVOCATION_OPTIONS } from './revocation.constants';
import { RevocationMetrics } from './revocation-metrics';
import { type ResolvedRevocationOptions } from './revocation-module-options';

/**
 * Asks the store whether a token is revoked, applying `FAIL_MODE` when the store cannot answer:
 * `closed` answers 503, `open` lets the token through.
 */
@Injectable()
export class StoreRevocationLookup {
  private readonly failClosed: boolean;

  constructor(
    private readonly store: RevocationStore,
    private readonly metrics: RevocationMetrics,
    @Inject(REVOCATION_OPTIONS) options: ResolvedRevocationOptions,
  ) {
    this.failClosed = options.failMode === 'closed';
  }

  /** @throws TokenRevokedError, or NotInSyncError when closed and the store is unreachable */
  async check(claims: AccessTokenClaims): Promise<true> {
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
