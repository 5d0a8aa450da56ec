import {
  type Clock,
  type Milliseconds,
  REVOCATION_DEFAULTS,
  type RevocationEvent,
  type SessionRevocation,
  systemClock,
  type UserRevocation,
} from '@rescind/revocation-core';
import { EVENT_FIELDS } from './event-codec';
import { defineLuaCommands } from './redis-commands';
import { type RedisKeys } from './redis-keys';
import { type RedisClient } from './redis-topology';
import {
  type RevocationAudit,
  revokeScriptArguments,
  revokeScriptResult,
  STORE_COMMANDS,
  withOrigin,
  type RevokeScriptArguments,
} from './revocation-store';

/** A session as the store holds it (docs/design.md, "Sessions"). */
export interface StoredSession {
  readonly sid: string;
  readonly sub: string;
  /** The `iat` of the session's first access token, in ms rounded up. */
  readonly createdAtMs: Milliseconds;
  /** When its refresh token was last presented (its creation until then). */
  readonly lastUsedAtMs: Milliseconds;
  readonly userAgent?: string;
  readonly ip?: string;
  /** When the session ends unless refreshed (the expiry of its latest refresh token). */
  readonly expiresAtMs: Milliseconds;
}

/** A new session and its first refresh token. */
export interface NewSession {
  readonly sid: string;
  readonly sub: string;
  /** The `iat` of the session's first access token, in ms rounded up. */
  readonly createdAtMs: Milliseconds;
  /** SHA-256 digest (base64url) of the refresh token; the token itself is never stored. */
  readonly refreshDigest: string;
  readonly refreshExpiresAtMs: Milliseconds;
  readonly userAgent?: string;
  readonly ip?: string;
}

/** A refresh token presented for rotation, and the one that would replace it. */
export interface Rotation {
  /** The session and user the presented token's record named when it was looked up. */
  readonly sid: string;
  readonly sub: string;
  readonly presentedDigest: string;
  readonly nextDigest: string;
  readonly nextExpiresAtMs: Milliseconds;
  /** How long a token rotated out still earns a sibling pair rather than counting as reuse. */
  readonly graceMs: Milliseconds;
  readonly userAgent?: string;
  readonly ip?: string;
}

/** Why a refresh token was refused without being taken for reuse. */
export type InvalidRefreshReason = 'unknown' | 'expired' | 'revoked' | 'cut-off';

/** What presenting a refresh token did. */
export type RotationResult =
  /** `rotated`: the current token, replaced; `sibling`: one just rotated out, within the grace. */
  | { readonly outcome: 'rotated' | 'sibling'; readonly expiresAtMs: Milliseconds }
  /**
   * A token rotated out before the grace: the session was revoked in the same script; `event`
   * is the logged revocation, `null` when the store already held it.
   */
  | { readonly outcome: 'reused'; readonly event: RevocationEvent | null }
  | { readonly outcome: 'invalid'; readonly reason: InvalidRefreshReason };

/** What ending sessions recorded. */
export interface SessionsEnded {
  /** Live sessions ended (for one session: 1 or 0). */
  readonly ended: number;
  /** The logged revocation, `null` when there was nothing to record. */
  readonly event: RevocationEvent | null;
}

/** Result of one session tidy batch. */
export interface SessionTidyResult {
  readonly sessionsRemoved: number;
  readonly refreshTokensRemoved: number;
  readonly more: boolean;
}

/** Options of {@link SessionStore}. */
export interface SessionStoreOptions {
  /** @default REVOCATION_DEFAULTS.clockSkewMs (a new data set's not-before, as the store's) */
  clockSkewMs?: Milliseconds;
  /** @default systemClock */
  clock?: Clock;
  /** This region's name, the origin of what is revoked here (`RevocationStoreOptions.region`). @default none */
  region?: string;
}

/** A member of the sessions-by-expiry set: the sid (22 characters) followed by the sub. */
const SID_LENGTH = 22;

/**
 * Sessions and their refresh tokens in Redis (docs/design.md, "Sessions"): a hash per session, a
 * record per refresh token keyed by its SHA-256 digest (never the token), each user's sessions
 * and every session by expiry. Every change is one Lua script; those that end a session record
 * its revocation in the same script (through the `recordRevocation` include), so that the
 * session and the revocation of its access tokens can never disagree.
 */
export class SessionStore {
  private readonly clockSkewMs: Milliseconds;
  private readonly clock: Clock;
  private readonly region: string | undefined;
  private readonly run: ReturnType<typeof defineLuaCommands>;

  constructor(
    private readonly redis: RedisClient,
    readonly keys: RedisKeys,
    options: SessionStoreOptions = {},
  ) {
    this.run = defineLuaCommands(redis, STORE_COMMANDS);
    this.clockSkewMs = options.clockSkewMs ?? REVOCATION_DEFAULTS.clockSkewMs;
    this.clock = options.clock ?? systemClock;
    this.region = options.region;
  }

  /** Starts a session with its first refresh token. */
  async create(session: NewSession): Promise<void> {
    assertSid(session.sid);
    await this.run(
      'rescindCreateSession',
      [
        this.keys.session(session.sid),
        this.keys.sessionRefreshTokens(session.sid),
        this.keys.refreshToken(session.refreshDigest),
        this.keys.sessionsOf(session.sub),
        this.keys.sessionExpiries(),
      ],
      [
        session.sid,
        session.sub,
        this.clock.now(),
        Math.ceil(session.createdAtMs),
        Math.ceil(session.refreshExpiresAtMs),
        session.refreshDigest,
        session.userAgent ?? '',
        session.ip ?? '',
      ],
    );
  }

  /**
   * The session and user a refresh token's record names, whatever its state (one `HMGET`):
   * what a refresh needs before it signs the new access token.
   */
  async lookup(digest: string): Promise<{ sid: string; sub: string } | undefined> {
    const [sid, sub] = await this.redis.hmget(this.keys.refreshToken(digest), 'sid', 'sub');
    if (sid === null || sub === null) return undefined;
    return { sid, sub };
  }

  /** The standard revoke block of a script that records `revocation` on the way, origin marked. */
  private revokeBlock(
    revocation: SessionRevocation | UserRevocation,
    audit: RevocationAudit,
    nowMs: number,
  ): RevokeScriptArguments {
    return revokeScriptArguments(
      this.keys,
      revocation,
      withOrigin(audit, this.region),
      nowMs,
      this.clockSkewMs,
    );
  }

  /**
   * Presents a refresh token: rotation, a sibling within the grace, reuse (the session is
   * revoked: `revocation`, a `session` revocation, is recorded in the same script) or invalid.
   */
  async rotate(
    rotation: Rotation,
    revocation: SessionRevocation,
    audit: RevocationAudit,
  ): Promise<RotationResult> {
    assertSid(rotation.sid);
    const now = this.clock.now();
    const block = this.revokeBlock(revocation, audit, now);
    const reply = (await this.run(
      'rescindRotateSession',
      [
        ...block.keys,
        this.keys.refreshToken(rotation.presentedDigest),
        this.keys.refreshToken(rotation.nextDigest),
        this.keys.session(rotation.sid),
        this.keys.sessionRefreshTokens(rotation.sid),
        this.keys.sessionsOf(rotation.sub),
        this.keys.sessionExpiries(),
        this.keys.record('user', rotation.sub),
      ],
      [
        ...block.args,
        rotation.sid,
        rotation.sub,
        now,
        Math.ceil(rotation.nextExpiresAtMs),
        rotation.nextDigest,
        rotation.graceMs,
        rotation.userAgent ?? '',
        rotation.ip ?? '',
        EVENT_FIELDS.cutoffMs,
      ],
    )) as [string, ...(string | number)[]];
    const [outcome, ...rest] = reply;
    switch (outcome) {
      case 'rotated':
      case 'sibling':
        return { outcome, expiresAtMs: Number(rest[0]) };
      case 'reused':
        return { outcome, event: revokeScriptResult(block, rest.length > 0 ? rest : null) };
      default:
        return { outcome: 'invalid', reason: rest[0] as InvalidRefreshReason };
    }
  }

  /**
   * Ends one session: marks it revoked and records `revocation` (its `session` revocation) in
   * one script. Given `sub`, only that user's live session is ended, and nothing is recorded
   * otherwise; without, the revocation is recorded whatever the store knows of the session.
   */
  async end(
    sid: string,
    sub: string | undefined,
    revocation: SessionRevocation,
    audit: RevocationAudit,
  ): Promise<SessionsEnded> {
    assertSid(sid);
    const now = this.clock.now();
    const block = this.revokeBlock(revocation, audit, now);
    const [ended, ...position] = (await this.run(
      'rescindEndSession',
      [...block.keys, this.keys.session(sid), this.keys.sessionExpiries()],
      [...block.args, sid, sub ?? '', now, this.keys.record('user', ''), EVENT_FIELDS.cutoffMs],
    )) as [number, ...unknown[]];
    return {
      ended: Number(ended),
      event: revokeScriptResult(block, position.length > 0 ? position : null),
    };
  }

  /**
   * Ends every session of `revocation.id`: records the user's cut-off (`revocation`, as a
   * logout-all records it) and marks each session revoked, in one script.
   */
  async endAll(revocation: UserRevocation, audit: RevocationAudit): Promise<SessionsEnded> {
    const now = this.clock.now();
    const block = this.revokeBlock(revocation, audit, now);
    const [ended, ...position] = (await this.run(
      'rescindEndUserSessions',
      [...block.keys, this.keys.sessionsOf(revocation.id), this.keys.sessionExpiries()],
      [...block.args, revocation.id, now, this.keys.sessionStems().session],
    )) as [number, ...unknown[]];
    return {
      ended: Number(ended),
      event: revokeScriptResult(block, position.length > 0 ? position : null),
    };
  }

  /** The user's live sessions, the most recently refreshed first, at most `limit`. */
  async list(sub: string, limit = 1000): Promise<StoredSession[]> {
    const flat = (await this.run(
      'rescindListSessions',
      [this.keys.sessionsOf(sub), this.keys.record('user', sub), this.keys.notBefore],
      [
        this.clock.now(),
        limit,
        this.keys.sessionStems().session,
        this.sessionRecordStem(),
        EVENT_FIELDS.cutoffMs,
      ],
    )) as string[];
    const sessions: StoredSession[] = [];
    for (let i = 0; i + 5 < flat.length; i += 6) {
      sessions.push(
        storedSession(flat[i] as string, sub, flat.slice(i + 1, i + 6) as StoredFields),
      );
    }
    return sessions;
  }

  /**
   * The session of a refresh token that would be honoured now (the current one, or one rotated
   * out within the grace), with the token's own expiry; `undefined` otherwise. Read-only.
   */
  async describe(digest: string, graceMs: Milliseconds): Promise<StoredSession | undefined> {
    const reply = (await this.run(
      'rescindDescribeRefresh',
      [this.keys.refreshToken(digest), this.keys.notBefore],
      [
        this.clock.now(),
        graceMs,
        this.keys.sessionStems().session,
        this.keys.record('user', ''),
        this.sessionRecordStem(),
        EVENT_FIELDS.cutoffMs,
      ],
    )) as [string, string, ...StoredFields] | null;
    if (reply === null) return undefined;
    const [sid, sub, ...fields] = reply;
    return storedSession(sid, sub, fields);
  }

  /**
   * Removes, one bounded batch, what sessions that expired or ended by `nowMs` left behind: their
   * hashes, the records of their refresh tokens, their places in their users' indexes.
   */
  async tidy(batchSize = 500, nowMs: Milliseconds = this.clock.now()): Promise<SessionTidyResult> {
    const stems = this.keys.sessionStems();
    const [sessionsRemoved, refreshTokensRemoved, more] = (await this.run(
      'rescindTidySessions',
      [this.keys.sessionExpiries()],
      [nowMs, batchSize, stems.session, stems.refreshTokens, stems.refreshToken, stems.sessionsOf],
    )) as [number, number, number];
    return { sessionsRemoved, refreshTokensRemoved, more: more === 1 };
  }

  /** The record key of a `session` revocation, without its sid. */
  private sessionRecordStem(): string {
    return this.keys.record('session', '');
  }
}

/** createdAtMs, lastUsedAtMs, user agent, address, expiry: as the scripts return them. */
type StoredFields = [string, string, string, string, string];

function storedSession(sid: string, sub: string, fields: StoredFields): StoredSession {
  const [created, used, userAgent, ip, expires] = fields;
  return {
    sid,
    sub,
    createdAtMs: Number(created),
    lastUsedAtMs: Number(used),
    ...(userAgent !== '' && { userAgent }),
    ...(ip !== '' && { ip }),
    expiresAtMs: Number(expires),
  };
}

/** Every key and member of a session assumes a sid of exactly this shape. */
function assertSid(sid: string): void {
  if (sid.length !== SID_LENGTH || !/^[A-Za-z0-9_-]+$/.test(sid)) {
    throw new RangeError(`a sid is ${SID_LENGTH} base64url characters`);
  }
}
