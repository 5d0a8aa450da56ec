import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { TokenInvalidError, TokenMissingError } from '@rescind/revocation-core';
import { type AccessTokenClaims, type RequestWithClaims } from './access-token-claims';
import { extractBearerToken } from './bearer-token';
import { RevocationChecker } from './revocation.checker';
import { IS_PUBLIC } from './revocation.constants';
import { RevocationMetrics } from './revocation-metrics';
import { TokenService } from './token.service';

type GuardedRequest = RequestWithClaims & {
  headers: Record<string, string | string[] | undefined>;
};

/**
 * The hot path: extract, verify once, check the local cache. No I/O unless the cache overflowed
 * or `REVOCATION_STRATEGY=redis`. Errors become RFC 6750 answers in `RescindExceptionFilter`.
 */
@Injectable()
export class RevocationGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: TokenService,
    private readonly checker: RevocationChecker,
    private readonly metrics: RevocationMetrics,
  ) {}

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean | undefined>(IS_PUBLIC, targets) === true) {
      return true;
    }
    const request = context.switchToHttp().getRequest<GuardedRequest>();
    const token = extractBearerToken(request.headers);
    if (token === undefined) throw new TokenMissingError();
    let claims: AccessTokenClaims | Promise<AccessTokenClaims>;
    try {
      if (token === '') throw new TokenInvalidError('The access token is malformed');
      claims = this.tokens.verify(token);
    } catch (error) {
      return this.invalid(error);
    }
    // Only an external issuer's token, the first time it is seen, is verified asynchronously.
    if (claims instanceof Promise) {
      return claims.then(
        (verified) => this.admit(request, verified),
        (e) => this.invalid(e),
      );
    }
    return this.admit(request, claims);
  }

  private admit(request: GuardedRequest, claims: AccessTokenClaims): true | Promise<true> {
    request.rescind = claims;
    return this.checker.check(claims);
  }

  private invalid(error: unknown): never {
    this.metrics.invalid.inc();
    throw error;
  }
}
