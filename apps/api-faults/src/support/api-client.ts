import {
  type Credentials,
  parseJsonBody,
  type Readiness,
  REQUEST_TIMEOUT_MS,
} from '@rescind/testing';
import { performance } from 'node:perf_hooks';

export {
  claimsOf,
  type Credentials,
  newCredentials,
  type Readiness,
  REQUEST_TIMEOUT_MS,
} from '@rescind/testing';

/**
 * One timed exchange. `status` is 0 when no answer came (refused, reset, timed out); times are
 * `performance.now()` readings of this process.
 */
export interface TimedAnswer<T = unknown> {
  readonly status: number;
  readonly sentAtMs: number;
  readonly doneAtMs: number;
  /** The parsed JSON body, when there was one. */
  readonly json: T | undefined;
  /** Why there was no answer, when `status` is 0. */
  readonly error?: string;
}

/** A thin client of one replica that never throws on an answer, only reports it with its timing. */
export class ApiClient {
  constructor(
    readonly baseUrl: string,
    /** How the replica is named in reports (`a`, `b`, …). */
    readonly label: string,
  ) {}

  /** Sends one request; a failure to get an answer is reported as status 0. */
  async request<T = unknown>(path: string, init: RequestInit = {}): Promise<TimedAnswer<T>> {
    const sentAtMs = performance.now();
    try {
      const response = await fetch(`${this.baseUrl}${path}`, {
        ...init,
        signal: init.signal ?? AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      const json = parseJsonBody<T>(await response.text());
      return { status: response.status, sentAtMs, doneAtMs: performance.now(), json };
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      return {
        status: 0,
        sentAtMs,
        doneAtMs: performance.now(),
        json: undefined,
        error: cause ?? (error instanceof Error ? error.name : String(error)),
      };
    }
  }

  /** `GET /me` with a bearer token. */
  me(token: string): Promise<TimedAnswer<Record<string, unknown>>> {
    return this.request('/me', { headers: { authorization: `Bearer ${token}` } });
  }

  /** `POST /auth/register`. */
  register(credentials: Credentials): Promise<TimedAnswer> {
    return this.postJson('/auth/register', credentials);
  }

  /** `POST /auth/login`. */
  login(credentials: Credentials): Promise<TimedAnswer<{ access_token?: string }>> {
    return this.postJson('/auth/login', credentials);
  }

  /** `POST /auth/logout`. */
  logout(token: string): Promise<TimedAnswer> {
    return this.request('/auth/logout', {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
  }

  /** `POST /auth/logout-all`. */
  logoutAll(token: string): Promise<TimedAnswer> {
    return this.request('/auth/logout-all', {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
  }

  /** `GET /health/ready`. */
  readiness(): Promise<TimedAnswer<Readiness>> {
    return this.request('/health/ready', { signal: AbortSignal.timeout(2_000) });
  }

  /** Whether `GET /health/ready` answers 200. */
  async isReady(): Promise<boolean> {
    return (await this.readiness()).status === 200;
  }

  /** `GET /metrics` as text; throws unless 200. */
  async metrics(): Promise<string> {
    const response = await fetch(`${this.baseUrl}/metrics`, {
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await response.text();
    if (response.status !== 200)
      throw new Error(`${this.label}: /metrics answered ${response.status}`);
    return text;
  }

  /** Registers (expects 201) and logs in (expects 200); returns the token. Set-up only. */
  async registerAndLogin(credentials: Credentials): Promise<string> {
    const registered = await this.register(credentials);
    if (registered.status !== 201) {
      throw new Error(`${this.label}: register answered ${registered.status}`);
    }
    return this.loginOrThrow(credentials);
  }

  /** Logs in (expects 200) and returns the token. Set-up only. */
  async loginOrThrow(credentials: Credentials): Promise<string> {
    const answer = await this.login(credentials);
    const token = answer.json?.access_token;
    if (answer.status !== 200 || typeof token !== 'string') {
      throw new Error(`${this.label}: login answered ${answer.status} ${answer.error ?? ''}`);
    }
    return token;
  }

  private postJson<T>(path: string, body: unknown): Promise<TimedAnswer<T>> {
    return this.request<T>(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  }
}
