import { createHash, timingSafeEqual } from 'node:crypto';
import {
  type CanActivate,
  type ExecutionContext,
  Inject,
  Injectable,
  NotFoundException,
} from '@nestjs/common';
import { RescindError } from '@rescind/revocation-core';
import { APP_CONFIG, type AppConfig } from '../config/app-config';

/** No admin credential was presented. */
export class AdminKeyMissingError extends RescindError {
  constructor() {
    super('ERR_ADMIN_KEY_MISSING', 'Admin credential required');
  }
}

/** The presented admin credential is wrong. */
export class AdminKeyInvalidError extends RescindError {
  constructor() {
    super('ERR_ADMIN_KEY_INVALID', 'The admin credential is invalid');
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/**
 * `Authorization: Bearer <ADMIN_API_KEY>` for `/admin/*` and `/oauth/introspect`. With no key
 * configured those routes do not exist (404).
 */
@Injectable()
export class AdminKeyGuard implements CanActivate {
  private readonly expected: Buffer | undefined;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.expected = config.adminApiKey === undefined ? undefined : digest(config.adminApiKey);
  }

  canActivate(context: ExecutionContext): boolean {
    if (this.expected === undefined) throw new NotFoundException();
    const request = context.switchToHttp().getRequest<{ headers: Record<string, unknown> }>();
    const header = request.headers['authorization'];
    const match = typeof header === 'string' ? /^Bearer +(\S+) *$/i.exec(header) : null;
    if (match === null) throw new AdminKeyMissingError();
    // Compare digests so that the comparison is constant-time whatever the lengths.
    if (!timingSafeEqual(digest(match[1] as string), this.expected))
      throw new AdminKeyInvalidError();
    return true;
  }
}
