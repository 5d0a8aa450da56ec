import { performance } from 'node:perf_hooks';
import {
  type ApiAnswer,
  type ApiClient,
  type ApiResponse,
  bearer,
  type Credentials,
  type Rejection,
  timeUntilRejected,
} from '@rescind/testing';
import { decodeClaims } from './jwt-forge';

/** What login and refresh answer (README, "Routes"). */
export interface TokenPair {
  readonly access_token: string;
  readonly token_type: string;
  readonly expires_in: number;
  readonly refresh_token: string;
  readonly refresh_expires_in: number;
}

/** A pair with the session it belongs to, read off the access token. */
export interface SessionPair extends TokenPair {
  readonly sid: string;
}

/** A refresh token's shape: 43 characters of base64url (docs/design.md, "Sessions"). */
export const REFRESH_TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;
/** A session id's shape: 22 characters of base64url. */
export const SESSION_ID_SHAPE = /^[A-Za-z0-9_-]{22}$/;

function pairOf(answer: ApiResponse, what: string): SessionPair {
  const body = answer.json as Partial<TokenPair> | undefined;
  if (
    answer.status !== 200 ||
    typeof body?.access_token !== 'string' ||
    typeof body.refresh_token !== 'string'
  ) {
    throw new Error(`${what}: unexpected HTTP ${answer.status}: ${answer.text.slice(0, 300)}`);
  }
  return { ...(body as TokenPair), sid: String(decodeClaims(body.access_token)['sid']) };
}

/** `POST /auth/login` with optional extra headers (a `User-Agent`), whatever the answer. */
export function loginAnswer(
  client: ApiClient,
  credentials: Credentials,
  headers: Record<string, string> = {},
): Promise<ApiAnswer> {
  return client.request('/auth/login', {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify(credentials),
  });
}

/** `POST /auth/login`; expects 200 and returns the pair with its session. */
export async function login(
  client: ApiClient,
  credentials: Credentials,
  headers: Record<string, string> = {},
): Promise<SessionPair> {
  return pairOf(await loginAnswer(client, credentials, headers), `${client.label} login`);
}

/** `POST /auth/refresh` with `{refresh_token}` as JSON, whatever the answer. */
export function refreshAnswer(client: ApiClient, refreshToken: string): Promise<ApiAnswer> {
  return client.postJson('/auth/refresh', { refresh_token: refreshToken });
}

/** `POST /auth/refresh`; expects 200 and returns the new pair. */
export async function refresh(client: ApiClient, refreshToken: string): Promise<SessionPair> {
  return pairOf(await refreshAnswer(client, refreshToken), `${client.label} refresh`);
}

/** `DELETE /auth/sessions/:sid` as the bearer of `token`, whatever the answer. */
export function deleteSessionAnswer(
  client: ApiClient,
  token: string,
  sid: string,
): Promise<ApiAnswer> {
  return client.request(`/auth/sessions/${sid}`, { method: 'DELETE', headers: bearer(token) });
}

/** One item of `GET /auth/sessions`. */
export interface ListedSession {
  readonly sid: string;
  readonly created_at: string;
  readonly last_used_at: string;
  readonly user_agent: string | null;
  readonly ip: string | null;
  readonly current: boolean;
}

/** `GET /auth/sessions` as the bearer of `token`; expects 200. */
export async function listSessions(client: ApiClient, token: string): Promise<ListedSession[]> {
  const answer = await client.request<{ items: ListedSession[] }>('/auth/sessions', {
    headers: bearer(token),
  });
  if (answer.status !== 200 || answer.json === undefined) {
    throw new Error(`list sessions: unexpected HTTP ${answer.status}: ${answer.text}`);
  }
  return answer.json.items;
}

/** `rescind_refresh_total{outcome}` summed over `/metrics` texts. */
export function refreshCount(metricsTexts: readonly string[], outcome: string): number {
  let total = 0;
  for (const text of metricsTexts) {
    for (const line of text.split('\n')) {
      if (line.startsWith('rescind_refresh_total{') && line.includes(`outcome="${outcome}"`)) {
        total += Number(line.split(' ').pop());
      }
    }
  }
  return total;
}

/** What {@link timeSessionFanOut} saw. */
export interface SessionFanOut {
  /** The revoking call's answer. */
  readonly answer: ApiAnswer;
  /** What the origin answered for the session's access token right after. */
  readonly atOrigin: ApiAnswer;
  /** When each other replica first rejected it, timed from the revoking call's return. */
  readonly rejections: Rejection[];
}

/**
 * Runs `revoke` (a refresh with a reused token, a `DELETE /auth/sessions/:sid`…) against
 * `origin`, then at once presents `accessToken` to the origin and times how long until each of
 * `others` rejects it (see `timeUntilRejected`).
 */
export async function timeSessionFanOut(
  origin: ApiClient,
  others: readonly ApiClient[],
  accessToken: string,
  revoke: () => Promise<ApiAnswer>,
  timeoutMs: number,
): Promise<SessionFanOut> {
  const answer = await revoke();
  const returnedAt = performance.now();
  const [atOrigin, ...rejections] = await Promise.all([
    origin.me(accessToken),
    ...others.map((client) => timeUntilRejected(client, accessToken, returnedAt, timeoutMs)),
  ]);
  return { answer, atOrigin: atOrigin as ApiAnswer, rejections: rejections as Rejection[] };
}
