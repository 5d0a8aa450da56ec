import { Injectable } from '@nestjs/common';
import {
  type AccessTokenClaims,
  RevocationChecker,
  StoreRevocationLookup,
} from '@rescind/revocation-nest';

/**
 * Benchmark baseline `REVOCATION_STRATEGY=redis`: one store lookup per request, the textbook
 * guard the in-memory checker is measured against (`FAIL_MODE` still applies when Redis cannot
 * answer).
 */
@Injectable()
export class RedisRevocationChecker extends RevocationChecker {
  constructor(private readonly lookup: StoreRevocationLookup) {
    super();
  }

  override check(claims: AccessTokenClaims): Promise<true> {
    return this.lookup.check(claims);
  }
}
