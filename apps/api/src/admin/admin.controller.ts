import { Body, Controller, Get, HttpCode, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import {
  ADMIN_REVOCATION,
  ERROR,
  REVOCATION_PAGE,
  REVOCATION_RECEIPT,
} from '../openapi/openapi-schemas';
import { InvalidInputError, isRevocationId, MAX_ID_LENGTH } from '@rescind/revocation-core';
import {
  formatListPosition,
  type ListPosition,
  parseListPosition,
} from '@rescind/revocation-redis';
import {
  Public,
  type ResolvedExternalIssuer,
  RevocationService,
  SessionService,
  TokenService,
} from '@rescind/revocation-nest';
import { AdminKeyGuard } from './admin-key.guard';

/** The kinds of revocation: a token (`jti`), a user's cut-off (`sub`), a session (`sid`). */
export type RevocationKindName = 'token' | 'user' | 'session';

/** What `POST /admin/revocations` answers. */
export interface RevocationReceiptBody {
  kind: RevocationKindName;
  /** The id given: with `iss`, the provider's own. */
  id: string;
  /** The external issuer the id belongs to, when the request named one. */
  iss?: string;
  at: string;
}

/** One revocation as listed to administrators. */
export interface RevocationItem {
  kind: RevocationKindName;
  /** As stored, also the cursor's: namespaced for an external issuer's ids. */
  id: string;
  /** The external issuer in whose namespace `id` is (docs/design.md, "External issuers"). */
  iss?: string;
  /** With `iss`: the id as the issuer wrote it, the namespace removed. */
  provider_id?: string;
  reason: string | null;
  at: string;
  expiresAt: string;
}

const MAX_REASON_LENGTH = 512;

function parseReason(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value.length > MAX_REASON_LENGTH) {
    throw new InvalidInputError(
      `reason must be a string of at most ${MAX_REASON_LENGTH} characters`,
    );
  }
  return value;
}

function parseLimit(value: unknown): number {
  if (value === undefined || value === '') return 100;
  const limit = Number(value);
  if (typeof value !== 'string' || !/^\d+$/.test(value) || limit < 1 || limit > 1000) {
    throw new InvalidInputError('limit must be an integer from 1 to 1000');
  }
  return limit;
}

/**
 * The position a cursor names: where the previous page ended (expiry and index member), so that
 * paging continues after it even once that revocation expired and the worker removed it.
 */
function parseCursor(value: unknown): ListPosition | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string') throw new InvalidInputError('cursor must be a string');
  const position = parseListPosition(Buffer.from(value, 'base64url').toString('utf8'));
  if (position === undefined) throw new InvalidInputError('cursor is not one this server issued');
  return position;
}

/** The id a revocation is recorded under: as given, or in the namespace of the issuer named. */
interface Namespace {
  readonly issuer: ResolvedExternalIssuer | undefined;
  /** Longest id accepted (the namespace takes some of the 256 characters). */
  readonly maxLength: number;
  stored(id: string): string;
}

/** `/admin/revocations`: revoke a token, a user or a session by id, and list live revocations. */
@Public()
@ApiTags('admin')
@ApiBearerAuth('admin-key')
@ApiResponse({ status: 401, description: 'no or wrong admin key', schema: ERROR })
@ApiResponse({ status: 404, description: 'ADMIN_API_KEY is not set' })
@UseGuards(AdminKeyGuard)
@Controller('admin/revocations')
export class AdminController {
  constructor(
    private readonly revocations: RevocationService,
    private readonly sessions: SessionService,
    private readonly tokens: TokenService,
  ) {}

  /**
   * The namespace `iss` names: none without it; a configured external issuer's with it, whose
   * ids (`jti`, `sub`, `sid`) are then the provider's own (docs/design.md, "External issuers").
   * @throws InvalidInputError for an `iss` that is no configured external issuer
   */
  private namespace(iss: unknown): Namespace {
    if (iss === undefined) {
      return { issuer: undefined, maxLength: MAX_ID_LENGTH, stored: (id) => id };
    }
    const issuer = typeof iss === 'string' ? this.tokens.externalIssuer(iss)?.issuer : undefined;
    if (issuer === undefined) {
      const named = typeof iss === 'string' ? JSON.stringify(iss.slice(0, 200)) : 'given';
      throw new InvalidInputError(`iss ${named} is not a configured external issuer`);
    }
    const prefix = issuer.idPrefix;
    return { issuer, maxLength: MAX_ID_LENGTH - prefix.length, stored: (id) => prefix + id };
  }

  @Post()
  @HttpCode(201)
  @ApiBody({ schema: ADMIN_REVOCATION })
  @ApiResponse({ status: 201, schema: REVOCATION_RECEIPT })
  @ApiResponse({ status: 400, schema: ERROR })
  async revoke(@Body() body: unknown): Promise<RevocationReceiptBody> {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new InvalidInputError(
        'Expected a JSON object {jti, exp?, reason?, iss?}, {sub, reason?, iss?} or {sid, reason?, iss?}',
      );
    }
    const { jti, sub, sid, exp, iss, reason: rawReason } = body as Record<string, unknown>;
    const reason = parseReason(rawReason);
    const namespace = this.namespace(iss);
    const chars = `1-${namespace.maxLength} printable characters`;
    const valid = (id: unknown): id is string =>
      isRevocationId(id) && id.length <= namespace.maxLength;
    const answer = (kind: RevocationKindName, id: string, atMs: number): RevocationReceiptBody => ({
      kind,
      id,
      ...(namespace.issuer === undefined ? {} : { iss: namespace.issuer.issuer }),
      at: new Date(atMs).toISOString(),
    });
    const audit = { actor: 'admin', ...(reason === undefined ? {} : { reason }) };
    if ([jti, sub, sid].filter((id) => id !== undefined).length !== 1) {
      throw new InvalidInputError('Give exactly one of jti, sub or sid');
    }
    if (sid !== undefined) {
      if (exp !== undefined) throw new InvalidInputError('exp applies to a jti, not to a sid');
      if (!valid(sid)) throw new InvalidInputError(`sid must be ${chars}`);
      const receipt = await this.revokeSession(namespace.stored(sid), audit);
      return answer('session', sid, receipt.atMs);
    }
    if (jti !== undefined) {
      if (!valid(jti)) throw new InvalidInputError(`jti must be ${chars}`);
      if (exp !== undefined && (typeof exp !== 'number' || !Number.isFinite(exp) || exp < 0)) {
        throw new InvalidInputError('exp must be a NumericDate (seconds since the epoch)');
      }
      const receipt = await this.revocations.revokeToken(
        namespace.stored(jti),
        exp === undefined ? undefined : Math.ceil(exp * 1000),
        audit,
      );
      return answer('token', jti, receipt.atMs);
    }
    if (exp !== undefined) throw new InvalidInputError('exp applies to a jti, not to a sub');
    if (!valid(sub)) throw new InvalidInputError(`sub must be ${chars}`);
    const receipt = await this.revocations.revokeAllForUser(namespace.stored(sub), audit);
    return answer('user', sub, receipt.atMs);
  }

  /**
   * Ends the session where it is recorded (its refresh token dies with it) and revokes its
   * access tokens everywhere, in one script; a session the store does not know (ended, tidied,
   * or from before a store loss) is still revoked by its id, as an unknown `jti` is.
   */
  private revokeSession(
    sid: string,
    audit: { actor: string; reason?: string },
  ): Promise<{ atMs: number }> {
    return this.sessions.revoke(sid, audit);
  }

  @Get()
  @ApiQuery({
    name: 'limit',
    required: false,
    schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
  })
  @ApiQuery({ name: 'cursor', required: false, schema: { type: 'string' } })
  @ApiResponse({ status: 200, schema: REVOCATION_PAGE })
  async list(
    @Query('limit') limit: unknown,
    @Query('cursor') cursor: unknown,
  ): Promise<{ items: RevocationItem[]; next_cursor: string | null }> {
    const page = await this.revocations.list(parseLimit(limit), parseCursor(cursor));
    return {
      items: page.items.map((record) => ({
        kind: record.kind,
        id: record.id,
        ...this.providerIds(record.id),
        reason: record.reason ?? null,
        at: new Date(record.createdAtMs).toISOString(),
        expiresAt: new Date(record.expiresAtMs).toISOString(),
      })),
      next_cursor:
        page.next === undefined
          ? null
          : Buffer.from(formatListPosition(page.next)).toString('base64url'),
    };
  }

  /** For an id in an external issuer's namespace: the issuer and the id as it wrote it. */
  private providerIds(id: string): { iss?: string; provider_id?: string } {
    const issuer = this.tokens.externalIssuerOfId(id);
    if (issuer === undefined) return {};
    return { iss: issuer.issuer, provider_id: id.slice(issuer.idPrefix.length) };
  }
}
