import { Injectable } from '@nestjs/common';
import { RevocationChecker, RevocationMetrics } from '@rescind/revocation-nest';

/**
 * Benchmark baseline `REVOCATION_STRATEGY=none`: no revocation check at all, only the token's
 * signature and claims. It measures what checking costs; `NODE_ENV=production` refuses it.
 */
@Injectable()
export class NoRevocationChecker extends RevocationChecker {
  constructor(private readonly metrics: RevocationMetrics) {
    super();
  }

  override check(): true {
    this.metrics.accepted.inc();
    return true;
  }
}
