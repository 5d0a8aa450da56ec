import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { type RequestWithClaims } from './access-token-claims';

/** Injects the verified {@link AccessTokenClaims} of the current request. */
export const AuthClaims = createParamDecorator(
  (_data: unknown, context: ExecutionContext) =>
    context.switchToHttp().getRequest<RequestWithClaims>().rescind,
);
