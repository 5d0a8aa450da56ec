import { Injectable } from '@nestjs/common';
import { type AccessTokenClaims } from './access-token-claims';
import { RevocationChecker } from './revocation.checker';
import { StoreRevocationLookup } from './store-revocation.lookup';

/** `REVOCATION_STRATEGY=redis`: one store lookup per request (the textbook guard, for benchmarks). */
@Injectable()
export class RedisRevocationChecker extends RevocationChecker {
  constructor(private readonly lookup: StoreRevocationLookup) {
    super();
  }

  override check(claims: AccessTokenClaims): Promise<true> {
    return this.lookup.check(claims);
  }
}
