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

const BEARER = /^Bearer +(\S+) *$/i;
const BASIC = /^Basic +([A-Za-z0-9+/]+={0,2}) *$/i;

/**
 * The password of an HTTP Basic credential (RFC 7617), as sent and as RFC 6749 §2.3.1 would have
 * it decoded (`application/x-www-form-urlencoded`); the user name is not read. `undefined` when
 * the credential has no `user:password` shape.
 */
function basicPasswords(encoded: string): string[] | undefined {
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) return undefined;
  const raw = decoded.slice(colon + 1);
  try {
    return [raw, decodeURIComponent(raw.replace(/\+/g, ' '))];
  } catch {
    return [raw]; // not form-encoded (a lone `%`): as sent
  }
}

/**
 * `Authorization: Bearer <ADMIN_API_KEY>` for `/admin/*` and `/oauth/introspect`. With no key
 * configured those routes do not exist (404).
 */
@Injectable()
export class AdminKeyGuard implements CanActivate {
  private readonly expected: Buffer | undefined;
  /** Whether the key may also come as the password of HTTP Basic (`client_secret_basic`). */
  protected readonly acceptsBasic: boolean = false;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.expected = config.adminApiKey === undefined ? undefined : digest(config.adminApiKey);
  }

  canActivate(context: ExecutionContext): boolean {
    if (this.expected === undefined) throw new NotFoundException();
    const request = context.switchToHttp().getRequest<{ headers: Record<string, unknown> }>();
    const header = request.headers['authorization'];
    const candidates = typeof header === 'string' ? this.presentedKeys(header) : undefined;
    if (candidates === undefined) throw new AdminKeyMissingError();
    // Compare digests so that the comparison is constant-time whatever the lengths, and compare
    // every candidate, so that the time does not tell which one matched.
    let matched = false;
    for (const candidate of candidates) {
      matched = timingSafeEqual(digest(candidate), this.expected) || matched;
    }
    if (!matched) throw new AdminKeyInvalidError();
    return true;
  }

  /** The keys a header presents: none (`undefined`) without a credential of an accepted scheme. */
  private presentedKeys(header: string): string[] | undefined {
    const bearer = BEARER.exec(header);
    if (bearer !== null) return [bearer[1] as string];
    if (!this.acceptsBasic) return undefined;
    const basic = BASIC.exec(header);
    if (basic === null) return undefined;
    // A Basic credential without a password is a wrong credential, not a missing one.
    return basicPasswords(basic[1] as string) ?? [];
  }
}

/**
 * The admin key for `/oauth/introspect`, where OAuth clients also send it as RFC 6749 §2.3.1
 * `client_secret_basic`: the key is the password, the user name (the client id) is any, even empty,
 * and is not checked: the key alone is the credential.
 */
@Injectable()
export class IntrospectionKeyGuard extends AdminKeyGuard {
  protected override readonly acceptsBasic: boolean = true;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    super(config);
  }
}
