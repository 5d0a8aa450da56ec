import {
  type CanActivate,
  type ExecutionContext,
  Inject,
  Injectable,
  UnauthorizedException,
} from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { type Redis } from 'ioredis';
import { TEXTBOOK_REDIS } from './textbook.constants';

/** Request as the textbook guard leaves it. */
export interface TextbookRequest {
  headers: Record<string, string | string[] | undefined>;
  user?: Record<string, unknown>;
}

/**
 * The guard as tutorials write it: look the raw token up in a Redis deny-list on every request,
 * then `verifyAsync` it with the string secret `JwtModule` was registered with. Kept naive on
 * purpose: it is the benchmark's baseline (load-tests/bench/README.md), not an example.
 */
@Injectable()
export class TextbookAuthGuard implements CanActivate {
  constructor(
    private readonly jwt: JwtService,
    @Inject(TEXTBOOK_REDIS) private readonly redis: Redis,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<TextbookRequest>();
    const [type, token] = String(request.headers['authorization'] ?? '').split(' ');
    if (type !== 'Bearer' || !token) throw new UnauthorizedException();
    if ((await this.redis.get(token)) !== null) throw new UnauthorizedException('Token revoked');
    try {
      request.user = await this.jwt.verifyAsync<Record<string, unknown>>(token);
    } catch {
      throw new UnauthorizedException();
    }
    return true;
  }
}
