import { createHash, randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import {
  type Clock,
  InvalidInputError,
  isRevocationId,
  issuedAtMs,
  type Milliseconds,
  StoreUnavailableError,
} from '@rescind/revocation-core';
import { type RevocationAudit, SessionStore, type StoredSession } from '@rescind/revocation-redis';
import { InvalidGrantError } from './invalid-grant.error';
import { REVOCATION_CLOCK, REVOCATION_OPTIONS } from './revocation.constants';
import { RevocationMetrics } from './revocation-metrics';
import { type ResolvedRevocationOptions } from './revocation-module-options';
import { type RevocationReceipt, RevocationService } from './revocation.service';
import { type IssuedToken, TokenService } from './token.service';

/** Where a session is used from, shown when its user lists their sessions. */
export interface SessionContext {
  readonly userAgent?: string;
  readonly ip?: string;
}

/** A session's access token and refresh token, as login and refresh hand them out. */
export interface IssuedSession {
  readonly sid: string;
  /** Carries `sid` besides the claims given. */
  readonly access: IssuedToken;
  /** 43 base64url characters (32 random bytes); only its SHA-256 digest is stored. */
  readonly refreshToken: string;
  /** Seconds until the refresh token expires. */
  readonly refreshExpiresIn: number;
}

/** A live session, as its user lists it: what the store holds of it. */
export type SessionInfo = StoredSession;

/** What presenting a refresh token came to, as counted in `rescind_refresh_total{outcome}`. */
export type RefreshOutcome = 'rotated' | 'reused' | 'invalid';

/** Options of {@link SessionService.end}. */
export interface EndSessionOptions extends RevocationAudit {
  /** End it only if it is this user's live session (a user ending one of their own). */
  readonly sub?: string;
}

/** A refresh token: 32 bytes as base64url without padding, in its one canonical spelling. */
const REFRESH_TOKEN = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/;
/** A sid: 16 bytes as base64url without padding, in its one canonical spelling. */
const SID = /^[A-Za-z0-9_-]{21}[AQgw]$/;
/** Longest user agent and address kept with a session; a header can be kilobytes long. */
const CONTEXT_MAX = 256;

/** Whether `value` has the shape of a refresh token this module issues. */
export function isRefreshTokenShape(value: unknown): value is string {
  return typeof value === 'string' && REFRESH_TOKEN.test(value);
}

/** Whether `value` has the shape of a session id this module issues. */
export function isSessionId(value: unknown): value is string {
  return typeof value === 'string' && SID.test(value);
}

function digestOf(refreshToken: string): string {
  return createHash('sha256').update(refreshToken).digest('base64url');
}

function context(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value.slice(0, CONTEXT_MAX);
}

/**
 * Sessions and refresh tokens (docs/design.md, "Sessions"): login starts a session whose access
 * tokens carry its `sid`; each refresh rotates the refresh token; a refresh token presented
 * again after the grace is reuse (RFC 9700 §4.14.2) and revokes the whole session, on this
 * replica at once (read your revocation) and on the others through the revocation log.
 */
@Injectable()
export class SessionService {
  private readonly refreshTtlMs: Milliseconds;
  private readonly graceMs: Milliseconds;
  private readonly refreshTtlSeconds: number;

  constructor(
    private readonly store: SessionStore,
    private readonly tokens: TokenService,
    private readonly revocations: RevocationService,
    private readonly metrics: RevocationMetrics,
    @Inject(REVOCATION_OPTIONS) options: ResolvedRevocationOptions,
    @Inject(REVOCATION_CLOCK) private readonly clock: Clock,
  ) {
    this.refreshTtlSeconds = options.refreshTokenTtlSeconds;
    this.refreshTtlMs = options.refreshTokenTtlSeconds * 1000;
    this.graceMs = options.refreshReuseGraceMs;
  }

  /**
   * Starts a session for `sub` (after login): a new `sid`, an access token carrying it and
   * `claims`, and the first refresh token.
   */
  async start(
    sub: string,
    claims: Record<string, unknown>,
    ctx: SessionContext = {},
  ): Promise<IssuedSession> {
    if (!isRevocationId(sub)) throw new InvalidInputError('sub must be 1-256 printable characters');
    const sid = randomBytes(16).toString('base64url');
    // Signed before the session exists, so that the session is born with its token's iat and a
    // logout-all taken meanwhile covers both or neither.
    const access = await this.tokens.issue(sub, { ...claims, sid });
    const refreshToken = randomBytes(32).toString('base64url');
    await this.storeCall(() =>
      this.store.create({
        sid,
        sub,
        createdAtMs: issuedAtMs(access.claims.iat),
        refreshDigest: digestOf(refreshToken),
        refreshExpiresAtMs: this.clock.now() + this.refreshTtlMs,
        userAgent: context(ctx.userAgent),
        ip: context(ctx.ip),
      }),
    );
    return { sid, access, refreshToken, refreshExpiresIn: this.refreshTtlSeconds };
  }

  /**
   * Exchanges a refresh token for a new pair (rotation). The new access token is signed before
   * the store decides, and handed out only if it rotated: a session revoked by the same or a
   * later script covers every access token it ever handed out.
   * @param claims the claims of the new access token, given the session's user (e.g. username)
   * @throws InvalidGrantError `invalid` (malformed, unknown, expired, revoked) or `reused` (a
   *   token rotated out before the grace: the session is now revoked)
   */
  async refresh(
    refreshToken: string,
    claims: (sub: string) => Promise<Record<string, unknown>>,
    ctx: SessionContext = {},
  ): Promise<IssuedSession> {
    if (!isRefreshTokenShape(refreshToken)) throw this.refused('invalid');
    const presentedDigest = digestOf(refreshToken);
    const found = await this.storeCall(() => this.store.lookup(presentedDigest));
    if (found === undefined) throw this.refused('invalid');
    const { sid, sub } = found;
    const access = await this.tokens.issue(sub, { ...(await claims(sub)), sid });
    const next = randomBytes(32).toString('base64url');
    const nowMs = this.clock.now();
    const revocation = this.revocations.sessionRevocation(sid);
    const result = await this.storeCall(() =>
      this.store.rotate(
        {
          sid,
          sub,
          presentedDigest,
          nextDigest: digestOf(next),
          nextExpiresAtMs: nowMs + this.refreshTtlMs,
          graceMs: this.graceMs,
          userAgent: context(ctx.userAgent),
          ip: context(ctx.ip),
        },
        revocation,
        { reason: 'refresh-token-reuse', actor: 'rescind' },
      ),
    );
    switch (result.outcome) {
      case 'rotated':
      case 'sibling':
        this.metrics.refresh('rotated');
        return {
          sid,
          access,
          refreshToken: next,
          refreshExpiresIn: Math.max(0, Math.round((result.expiresAtMs - nowMs) / 1000)),
        };
      case 'reused':
        // Read your revocation: this replica rejects the session's tokens before it answers.
        await this.revocations.recorded(revocation, result.event);
        throw this.refused('reused');
      default:
        throw this.refused('invalid');
    }
  }

  /**
   * Ends one session: its refresh tokens die and its access tokens are revoked everywhere, in one
   * script. With `sub`, only that user's live session is ended (nothing happens otherwise);
   * without, as {@link revoke}.
   * @returns whether a live session was ended (false: unknown, not that user's, already ended,
   *   or not a sid at all)
   */
  async end(sid: string, options: EndSessionOptions = {}): Promise<boolean> {
    const { sub, ...audit } = options;
    if (!isSessionId(sid) || (sub !== undefined && !isRevocationId(sub))) return false;
    return (await this.endSession(sid, sub, audit)).ended;
  }

  /**
   * Revokes a session as an administrator does: its `session` revocation is recorded whatever the
   * store knows of it (as for a `jti` an administrator names), and the session, if the store
   * holds it, is marked revoked in the same script, so that it can never be refreshed again.
   * @throws InvalidInputError when `sid` is not 1-256 printable characters
   */
  async revoke(sid: string, audit: RevocationAudit = {}): Promise<RevocationReceipt> {
    if (!isRevocationId(sid)) throw new InvalidInputError('sid must be 1-256 printable characters');
    // No session has such an id: only the revocation of its (forged) access tokens is left.
    if (!isSessionId(sid)) return this.revocations.revokeSession(sid, audit);
    const { receipt } = await this.endSession(sid, undefined, audit);
    return receipt as RevocationReceipt;
  }

  private async endSession(
    sid: string,
    sub: string | undefined,
    audit: RevocationAudit,
  ): Promise<{ ended: boolean; receipt?: RevocationReceipt }> {
    const revocation = this.revocations.sessionRevocation(sid);
    const { ended, event } = await this.storeCall(() =>
      this.store.end(sid, sub, revocation, audit),
    );
    // Given a user, nothing was recorded unless their live session was ended.
    if (event === null && sub !== undefined && ended === 0) return { ended: false };
    return { ended: ended > 0, receipt: await this.revocations.recorded(revocation, event) };
  }

  /**
   * Ends every session of `sub` and revokes every token issued to it up to now, in one script
   * whose commit point is the user's cut-off: as `RevocationService.revokeAllForUser`, it returns
   * once this clock has passed the cut-off.
   */
  async endAll(sub: string, audit: RevocationAudit = {}): Promise<RevocationReceipt> {
    if (!isRevocationId(sub)) throw new InvalidInputError('sub must be 1-256 printable characters');
    const revocation = this.revocations.userRevocation(sub);
    const { event } = await this.storeCall(() => this.store.endAll(revocation, audit));
    return this.revocations.recorded(revocation, event);
  }

  /** The user's live sessions, the most recently refreshed first. */
  async list(sub: string): Promise<SessionInfo[]> {
    if (!isRevocationId(sub)) return [];
    return this.storeCall(() => this.store.list(sub));
  }

  /**
   * The session of a refresh token that would be honoured now (for introspection, RFC 7662),
   * with the token's expiry; `undefined` for any other token, without a store call when it is
   * not even shaped like one.
   */
  async describe(refreshToken: string): Promise<StoredSession | undefined> {
    if (!isRefreshTokenShape(refreshToken)) return undefined;
    return this.storeCall(() => this.store.describe(digestOf(refreshToken), this.graceMs));
  }

  private refused(outcome: RefreshOutcome & InvalidGrantError['outcome']): InvalidGrantError {
    this.metrics.refresh(outcome);
    return new InvalidGrantError(outcome);
  }

  private async storeCall<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw new StoreUnavailableError(error);
    }
  }
}
