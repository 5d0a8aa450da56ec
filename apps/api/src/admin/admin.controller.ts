import { Body, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBody, ApiParam, ApiQuery, ApiResponse } from '@nestjs/swagger';
import {
  ADMIN_REVOCATION,
  ERROR,
  REVOCATION_DETAIL,
  REVOCATION_PAGE,
  REVOCATION_RECEIPT,
} from '../openapi/openapi-schemas';
import {
  InvalidInputError,
  isRevocationId,
  MAX_ID_LENGTH,
  StoreUnavailableError,
} from '@rescind/revocation-core';
import {
  formatListPosition,
  type ListPosition,
  parseListPosition,
  type RecordedPosition,
  type RevocationRecord,
  RevocationStore,
} from '@rescind/revocation-redis';
import {
  type ResolvedExternalIssuer,
  type RevocationConfirmations,
  RevocationPresence,
  RevocationService,
  SessionService,
  TokenService,
} from '@rescind/revocation-nest';
import { AdminRoutes } from './admin-routes.decorator';
import { RevocationNotFoundError } from './admin.errors';

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
  /** Who asked, e.g. `self` or `admin`. */
  actor: string | null;
  /**
   * The region it was made in (its `REGION`); `null` when it was made without regions
   * (docs/design.md, "Several regions").
   */
  origin: string | null;
  at: string;
  expiresAt: string;
}

/** What `GET /admin/revocations/:id` answers (docs/design.md, "Fleet presence"). */
export interface RevocationDetailBody extends RevocationItem {
  /** Where it was logged; absent for a revocation an older build recorded. */
  log_position?: RecordedPosition;
  /** Ready replicas in sync whose applied log position covers it. */
  confirmed_by: number;
  /** Ready replicas in the fleet. */
  ready_replicas: number;
  replicas: { instance: string; confirmed: boolean }[];
}

const KINDS: readonly RevocationKindName[] = ['token', 'user', 'session'];

function parseKind(value: unknown): readonly RevocationKindName[] {
  if (value === undefined || value === '') return KINDS;
  if (typeof value !== 'string' || !(KINDS as readonly string[]).includes(value)) {
    throw new InvalidInputError('kind must be one of token, user, session');
  }
  return [value as RevocationKindName];
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

/**
 * `/admin/revocations`: revoke a token, a user or a session by id, list live revocations, and
 * look one up with the replicas that have applied it.
 */
@AdminRoutes('admin/revocations')
export class AdminController {
  constructor(
    private readonly revocations: RevocationService,
    private readonly sessions: SessionService,
    private readonly tokens: TokenService,
    private readonly store: RevocationStore,
    private readonly presence: RevocationPresence,
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

  /**
   * One live revocation and how many ready replicas have applied it: a replica confirms once it
   * is ready, in sync, on the revocation's data set and past its log position (docs/design.md,
   * "Fleet presence").
   */
  @Get(':id')
  @ApiParam({ name: 'id', description: 'the jti, sub or sid (the provider’s own with iss)' })
  @ApiQuery({ name: 'kind', required: false, schema: { enum: ['token', 'user', 'session'] } })
  @ApiQuery({ name: 'iss', required: false, schema: { type: 'string' } })
  @ApiResponse({ status: 200, schema: REVOCATION_DETAIL })
  @ApiResponse({
    status: 400,
    description: 'bad id, kind or iss; or several kinds match',
    schema: ERROR,
  })
  @ApiResponse({ status: 404, description: 'no live revocation has that id', schema: ERROR })
  async describe(
    @Param('id') id: string,
    @Query('kind') kind: unknown,
    @Query('iss') iss: unknown,
  ): Promise<RevocationDetailBody> {
    const kinds = parseKind(kind);
    const namespace = this.namespace(iss);
    if (!isRevocationId(id) || id.length > namespace.maxLength) {
      throw new InvalidInputError(`id must be 1-${namespace.maxLength} printable characters`);
    }
    let found: RevocationRecord[];
    try {
      found = await this.store.find(namespace.stored(id), kinds);
    } catch (error) {
      throw new StoreUnavailableError(error);
    }
    if (found.length === 0) throw new RevocationNotFoundError();
    if (found.length > 1) {
      throw new InvalidInputError(
        `live revocations of several kinds have this id (${found.map((r) => r.kind).join(', ')}): ` +
          'give kind=token, user or session',
      );
    }
    const record = found[0] as RevocationRecord;
    let confirmations: RevocationConfirmations;
    try {
      confirmations = await this.presence.confirmations({
        ...(record.position === undefined ? {} : { position: record.position }),
        createdAtMs: record.createdAtMs,
      });
    } catch (error) {
      throw new StoreUnavailableError(error);
    }
    return {
      ...this.item(record),
      ...(record.position === undefined ? {} : { log_position: record.position }),
      confirmed_by: confirmations.confirmedBy,
      ready_replicas: confirmations.readyReplicas,
      replicas: confirmations.replicas.map(({ instance, confirmed }) => ({ instance, confirmed })),
    };
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
      items: page.items.map((record) => this.item(record)),
      next_cursor:
        page.next === undefined
          ? null
          : Buffer.from(formatListPosition(page.next)).toString('base64url'),
    };
  }

  /** A record as administrators see it. */
  private item(record: RevocationRecord): RevocationItem {
    return {
      kind: record.kind,
      id: record.id,
      ...this.providerIds(record.id),
      reason: record.reason ?? null,
      actor: record.actor ?? null,
      origin: record.origin ?? null,
      at: new Date(record.createdAtMs).toISOString(),
      expiresAt: new Date(record.expiresAtMs).toISOString(),
    };
  }

  /** For an id in an external issuer's namespace: the issuer and the id as it wrote it. */
  private providerIds(id: string): { iss?: string; provider_id?: string } {
    const issuer = this.tokens.externalIssuerOfId(id);
    if (issuer === undefined) return {};
    return { iss: issuer.issuer, provider_id: id.slice(issuer.idPrefix.length) };
  }
}
