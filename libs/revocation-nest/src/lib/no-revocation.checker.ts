import { Injectable } from '@nestjs/common';
import { RevocationChecker } from './revocation.checker';
import { RevocationMetrics } from './revocation-metrics';

/** `REVOCATION_STRATEGY=none`: no revocation at all, the benchmark baseline. */
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
