import { bearer, claimsOf, send } from '@rescind/testing';
import { historyNow } from './history-clock';
import { type OperationEntry, type OperationKind, type ReplicaLabel } from './history-entry';
import { type HistoryLog } from './history-log';

/** A replica as the clients see it. */
export interface ReplicaAddress {
  readonly label: ReplicaLabel;
  readonly url: string;
}

/** What an operation is about, written with it to the history. */
export type OperationSubject = Pick<
  OperationEntry,
  'user' | 'sub' | 'jti' | 'sid' | 'exp' | 'probe'
>;

/** One recorded operation and the answer's parsed body. */
export interface RecordedAnswer {
  readonly entry: OperationEntry;
  readonly json: unknown;
}

/**
 * Give up on an answer after this long: long enough for a logout-all (about a second) on a busy
 * machine, short enough that a lane stuck on a frozen replica comes back soon.
 */
const REQUEST_TIMEOUT_MS = 4_000;
const DETAIL_MAX = 120;

/**
 * Sends the generator's requests and writes each one to the history with the time it was sent,
 * the time its answer was read and its status (0 when none came). Never throws on an answer.
 */
export class RecordingClient {
  private nextId = 1;

  constructor(
    private readonly replicas: readonly ReplicaAddress[],
    private readonly history: HistoryLog,
    private readonly adminKey: string,
  ) {}

  /** `POST /auth/register`. */
  register(lane: number, replica: number, user: string, password: string): Promise<RecordedAnswer> {
    return this.call(lane, 'register', replica, { user }, '/auth/register', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: user, password }),
    });
  }

  /** `POST /auth/login`; the history gets the issued token's `jti`, `sub`, `sid` and `exp`. */
  login(lane: number, replica: number, user: string, password: string): Promise<RecordedAnswer> {
    return this.call(
      lane,
      'login',
      replica,
      { user },
      '/auth/login',
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: user, password }),
      },
      issuedTokenOf,
    );
  }

  /** `GET /me` with a bearer token. */
  read(
    lane: number,
    replica: number,
    token: string,
    subject: OperationSubject,
  ): Promise<RecordedAnswer> {
    return this.call(lane, 'read', replica, subject, '/me', { headers: bearer(token) });
  }

  /** `POST /auth/logout` or `POST /auth/logout-all` with a bearer token. */
  logout(
    lane: number,
    replica: number,
    kind: 'logout' | 'logout-all',
    token: string,
    subject: OperationSubject,
  ): Promise<RecordedAnswer> {
    const path = kind === 'logout' ? '/auth/logout' : '/auth/logout-all';
    return this.call(lane, kind, replica, subject, path, {
      method: 'POST',
      headers: bearer(token),
    });
  }

  /**
   * `POST /auth/refresh` with a refresh token (the session's current one, or one rotated out: a
   * reuse); on 200 the history gets the issued token's `jti`, `sub`, `sid` and `exp`.
   */
  refresh(
    lane: number,
    replica: number,
    kind: 'refresh' | 'refresh-reuse',
    refreshToken: string,
    subject: OperationSubject,
  ): Promise<RecordedAnswer> {
    return this.call(
      lane,
      kind,
      replica,
      subject,
      '/auth/refresh',
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ refresh_token: refreshToken }),
      },
      issuedTokenOf,
    );
  }

  /** `DELETE /auth/sessions/:sid` as the bearer of one of the session's tokens. */
  deleteSession(
    lane: number,
    replica: number,
    token: string,
    sid: string,
    subject: OperationSubject,
  ): Promise<RecordedAnswer> {
    return this.call(lane, 'delete-session', replica, subject, `/auth/sessions/${sid}`, {
      method: 'DELETE',
      headers: bearer(token),
    });
  }

  /** `POST /admin/revocations` with `{jti, exp}` or `{sub}` and the admin key. */
  adminRevoke(
    lane: number,
    replica: number,
    body: { jti: string; exp?: number } | { sub: string },
    subject: OperationSubject,
  ): Promise<RecordedAnswer> {
    const kind = 'jti' in body ? 'admin-revoke-jti' : 'admin-revoke-sub';
    return this.call(lane, kind, replica, subject, '/admin/revocations', {
      method: 'POST',
      headers: { ...bearer(this.adminKey), 'content-type': 'application/json' },
      body: JSON.stringify({ ...body, reason: 'nemesis' }),
    });
  }

  /** RFC 7009 `POST /oauth/revoke` of a token. */
  oauthRevoke(
    lane: number,
    replica: number,
    token: string,
    subject: OperationSubject,
  ): Promise<RecordedAnswer> {
    return this.call(lane, 'oauth-revoke', replica, subject, '/oauth/revoke', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
    });
  }

  private async call(
    lane: number,
    kind: OperationKind,
    replica: number,
    requested: OperationSubject,
    path: string,
    init: RequestInit,
    describe?: (json: unknown) => OperationSubject,
  ): Promise<RecordedAnswer> {
    const target = this.replicas[replica];
    if (target === undefined) throw new Error(`no replica ${replica}`);
    const id = this.nextId++;
    const sentAt = historyNow();
    let status = 0;
    let detail: string | undefined;
    let json: unknown;
    let subject = requested;
    try {
      const answer = await send(`${target.url}${path}`, {
        ...init,
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      status = answer.status;
      json = answer.json;
      if (status >= 400) detail = describeRefusal(answer.headers, answer.json);
      else if (describe !== undefined) subject = { ...subject, ...describe(json) };
    } catch (error) {
      detail = describeFailure(error);
    }
    const entry: OperationEntry = {
      type: 'op',
      id,
      lane,
      kind,
      replica: target.label,
      sentAt,
      doneAt: historyNow(),
      status,
      ...subject,
      ...(detail === undefined ? {} : { detail }),
    };
    this.history.append(entry);
    return { entry, json };
  }
}

/** The claims of the token a login or refresh answer carries, if it carries one. */
function issuedTokenOf(json: unknown): OperationSubject {
  const token = (json as { access_token?: unknown } | undefined)?.access_token;
  if (typeof token !== 'string') return {};
  const claims = claimsOf(token);
  return {
    sub: String(claims['sub']),
    jti: String(claims['jti']),
    exp: Number(claims['exp']),
    ...(typeof claims['sid'] === 'string' ? { sid: claims['sid'] } : {}),
  };
}

// RFC 6750's error_description says why a token was refused (revoked, expired, not in sync…).
function describeRefusal(headers: Headers, json: unknown): string | undefined {
  const challenge = headers.get('www-authenticate') ?? '';
  const described = /error_description="([^"]*)"/.exec(challenge)?.[1];
  if (described !== undefined) return described.slice(0, DETAIL_MAX);
  if (typeof json === 'object' && json !== null) {
    const body = json as Record<string, unknown>;
    const text = body['message'] ?? body['error_description'] ?? body['error'];
    if (typeof text === 'string') return text.slice(0, DETAIL_MAX);
  }
  return undefined;
}

// undici reports "fetch failed" with the reason (ECONNREFUSED, a timeout…) as its cause.
function describeFailure(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause as { code?: unknown } | undefined;
    if (typeof cause?.code === 'string') return cause.code;
    return error.name === 'TimeoutError' ? 'timeout' : error.message.slice(0, DETAIL_MAX);
  }
  return String(error).slice(0, DETAIL_MAX);
}
