import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type ApiResponse,
  bearer,
  type Credentials,
  inBatches,
  newCredentials,
  parseJsonBody,
  type Readiness,
  REQUEST_TIMEOUT_MS,
} from './api-http';

/** How often the set-up steps retry a login or registration the login bulkhead shed. */
const SHED_RETRIES = 30;

/**
 * The delay a shed login or registration asks for (503 `ERR_LOGIN_OVERLOADED` with
 * `Retry-After`, README "Login capacity"), in milliseconds; `undefined` for any other answer.
 */
export function shedRetryDelayMs(answer: ApiResponse): number | undefined {
  if (answer.status !== 503) return undefined;
  if ((answer.json as { error?: unknown } | undefined)?.error !== 'ERR_LOGIN_OVERLOADED')
    return undefined;
  const header = answer.headers.get('retry-after');
  const seconds = header === null || header.trim() === '' ? NaN : Number(header);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
}

/**
 * One timed exchange with a replica. `status` is 0 when no answer came (refused, reset, timed
 * out), with `error` saying why; times are `performance.now()` readings of this process.
 */
export interface ApiAnswer<T = unknown> extends ApiResponse<T> {
  readonly sentAtMs: number;
  readonly doneAtMs: number;
  /** Why there was no answer, when `status` is 0. */
  readonly error?: string;
}

/**
 * A client of one API replica, in two layers: the `…Answer` methods (and `request`, `me`,
 * `readiness`) never throw and report whatever came back with its timing, for the scenarios
 * that measure faults; `register`, `login`, `logout`, `logoutAll` and `metrics` expect the
 * success status and throw on any surprise, for set-up steps.
 */
export class ApiClient {
  constructor(
    readonly baseUrl: string,
    /** How the replica is named in messages and reports (e.g. `a`, `b`, …). */
    readonly label: string = baseUrl,
  ) {}

  /** Sends one request; no answer is reported as status 0, never thrown. */
  async request<T = unknown>(path: string, init: RequestInit = {}): Promise<ApiAnswer<T>> {
    const sentAtMs = performance.now();
    try {
      const response = await fetch(`${this.baseUrl}${path}`, {
        ...init,
        signal: init.signal ?? AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      const text = await response.text();
      const { status, headers } = response;
      return { status, headers, text, json: parseJsonBody<T>(text), sentAtMs, doneAtMs: now() };
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      const why = cause ?? (error instanceof Error ? error.name : String(error));
      const none = { status: 0, headers: new Headers(), text: '', json: undefined };
      return { ...none, sentAtMs, doneAtMs: now(), error: why };
    }
  }

  /** `GET /me` with a bearer token, whatever the answer. */
  me(token: string): Promise<ApiAnswer<Record<string, unknown>>> {
    return this.request('/me', { headers: bearer(token) });
  }

  /** The status `GET /me` answers for a token (0 when none came). */
  async meStatus(token: string): Promise<number> {
    return (await this.me(token)).status;
  }

  /**
   * `GET /me`, reduced to what a revocation test needs: `200`, `revoked` (401 with
   * `ERR_TOKEN_REVOKED`, so that a token that merely expired is never mistaken for a revoked
   * one), or the status of anything else.
   */
  async check(token: string): Promise<'200' | 'revoked' | string> {
    const answer = await this.me(token);
    if (answer.status === 401 && answer.json?.['error'] === 'ERR_TOKEN_REVOKED') return 'revoked';
    return String(answer.status);
  }

  /** `POST path` with a JSON body, whatever the answer. */
  postJson<T = unknown>(path: string, body: unknown): Promise<ApiAnswer<T>> {
    return this.request<T>(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  }

  /** `POST /auth/register`, whatever the answer. */
  registerAnswer(credentials: Credentials): Promise<ApiAnswer> {
    return this.postJson('/auth/register', credentials);
  }

  /** `POST /auth/login`, whatever the answer. */
  loginAnswer(credentials: Credentials): Promise<ApiAnswer<{ access_token?: unknown }>> {
    return this.postJson('/auth/login', credentials);
  }

  /** `POST /auth/logout`, whatever the answer. */
  logoutAnswer(token: string): Promise<ApiAnswer> {
    return this.request('/auth/logout', { method: 'POST', headers: bearer(token) });
  }

  /** `POST /auth/logout-all`, whatever the answer. */
  logoutAllAnswer(token: string): Promise<ApiAnswer> {
    return this.request('/auth/logout-all', { method: 'POST', headers: bearer(token) });
  }

  /** `GET /health/ready`, whatever the answer. */
  readiness(timeoutMs = REQUEST_TIMEOUT_MS): Promise<ApiAnswer<Readiness>> {
    return this.request('/health/ready', { signal: AbortSignal.timeout(timeoutMs) });
  }

  /** Whether `GET /health/ready` answers 200; no answer counts as not ready. */
  async isReady(): Promise<boolean> {
    return (await this.readiness()).status === 200;
  }

  /** `POST /auth/register`; expects 201 (retried as {@link unlessShed} says). */
  async register(credentials: Credentials): Promise<void> {
    const answer = await this.unlessShed(() => this.registerAnswer(credentials));
    if (answer.status !== 201) throw this.surprise('register', answer);
  }

  /** `POST /auth/login`; expects 200 and returns the access token (retried as {@link unlessShed} says). */
  async login(credentials: Credentials): Promise<string> {
    const answer = await this.unlessShed(() => this.loginAnswer(credentials));
    const token = answer.json?.access_token;
    if (answer.status !== 200 || typeof token !== 'string') throw this.surprise('login', answer);
    return token;
  }

  /** Registers (expects 201) and logs in (expects 200); returns the token. */
  async registerAndLogin(credentials: Credentials): Promise<string> {
    await this.register(credentials);
    return this.login(credentials);
  }

  /** `POST /auth/logout`; expects 204. */
  async logout(token: string): Promise<void> {
    const answer = await this.logoutAnswer(token);
    if (answer.status !== 204) throw this.surprise('logout', answer);
  }

  /** `POST /auth/logout-all`; expects 204. */
  async logoutAll(token: string): Promise<void> {
    const answer = await this.logoutAllAnswer(token);
    if (answer.status !== 204) throw this.surprise('logout-all', answer);
  }

  /** `GET /metrics` as text; expects 200. */
  async metrics(): Promise<string> {
    const answer = await this.request('/metrics');
    if (answer.status !== 200) throw this.surprise('metrics', answer);
    return answer.text;
  }

  /**
   * `call`'s answer, asked again after the `Retry-After` of each shed one, as a well-behaved
   * client does: on a machine whose cores are busy the login bulkhead sheds bursts of set-up
   * logins, which is the contract's answer, not the step's failure.
   */
  private async unlessShed<T>(call: () => Promise<ApiAnswer<T>>): Promise<ApiAnswer<T>> {
    for (let attempt = 0; ; attempt++) {
      const answer = await call();
      const delayMs = shedRetryDelayMs(answer);
      if (delayMs === undefined || attempt >= SHED_RETRIES) return answer;
      await sleep(delayMs);
    }
  }

  private surprise(what: string, answer: ApiAnswer): Error {
    const detail = answer.status === 0 ? `no answer (${answer.error})` : `HTTP ${answer.status}`;
    return new Error(`${this.label} ${what}: unexpected ${detail}: ${answer.text.slice(0, 300)}`);
  }
}

/**
 * Registers one user on `registerOn` and logs it in `count` times, spreading the logins over
 * `loginOn` in turn; returns the user and its tokens in login order.
 */
export async function userWithTokens(
  registerOn: ApiClient,
  loginOn: readonly ApiClient[],
  count: number,
  tag = 'user',
): Promise<{ credentials: Credentials; tokens: string[] }> {
  const credentials = newCredentials(tag);
  await registerOn.register(credentials);
  const tokens = await inBatches(
    Array.from({ length: count }, (_, index) => index),
    8,
    (index) => (loginOn[index % loginOn.length] as ApiClient).login(credentials),
  );
  return { credentials, tokens };
}

function now(): number {
  return performance.now();
}

/**
 * Registers one user on `clients[0]` and logs it in `count` times, spreading the logins over
 * `clients` in turn; returns the tokens in login order.
 */
export async function loginMany(
  clients: readonly ApiClient[],
  count: number,
  tag = 'user',
): Promise<string[]> {
  return (await userWithTokens(clients[0] as ApiClient, clients, count, tag)).tokens;
}
