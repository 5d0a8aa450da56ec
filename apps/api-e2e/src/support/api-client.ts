import {
  type ApiResponse,
  bearer,
  type Credentials,
  inBatches,
  newCredentials,
  type Readiness,
  REQUEST_TIMEOUT_MS,
  send,
  unexpectedAnswer as unexpected,
} from '@rescind/testing';

export {
  type ApiResponse,
  bearer,
  type Credentials,
  inBatches,
  metricValue,
  newCredentials,
  type Readiness,
  send,
} from '@rescind/testing';

/** A thin client of one replica: the routes the scenarios use, each failing loudly on surprise. */
export class ApiClient {
  constructor(readonly baseUrl: string) {}

  /** `POST /auth/register`; expects 201. */
  async register(credentials: Credentials): Promise<void> {
    const answer = await this.postJson('/auth/register', credentials);
    if (answer.status !== 201) throw unexpected('register', answer);
  }

  /** `POST /auth/login`; expects 200 and returns the access token. */
  async login(credentials: Credentials): Promise<string> {
    const answer = await this.postJson<{ access_token?: unknown }>('/auth/login', credentials);
    const token = answer.json?.access_token;
    if (answer.status !== 200 || typeof token !== 'string') throw unexpected('login', answer);
    return token;
  }

  /** `GET /me` with a bearer token, whatever the answer. */
  me(token: string): Promise<ApiResponse<Record<string, unknown>>> {
    return send(`${this.baseUrl}/me`, { headers: bearer(token) });
  }

  /** The status `GET /me` answers for a token (the body is drained, not parsed). */
  async meStatus(token: string): Promise<number> {
    const response = await fetch(`${this.baseUrl}/me`, {
      headers: bearer(token),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    await response.arrayBuffer();
    return response.status;
  }

  /** `POST /auth/logout`; expects 204. */
  async logout(token: string): Promise<void> {
    const answer = await send(`${this.baseUrl}/auth/logout`, {
      method: 'POST',
      headers: bearer(token),
    });
    if (answer.status !== 204) throw unexpected('logout', answer);
  }

  /** `POST /auth/logout-all`; expects 204. */
  async logoutAll(token: string): Promise<void> {
    const answer = await send(`${this.baseUrl}/auth/logout-all`, {
      method: 'POST',
      headers: bearer(token),
    });
    if (answer.status !== 204) throw unexpected('logout-all', answer);
  }

  /** `GET /health/ready`, whatever the answer. */
  readiness(): Promise<ApiResponse<Readiness>> {
    return send(`${this.baseUrl}/health/ready`);
  }

  /** Whether `GET /health/ready` answers 200; a refused connection counts as not ready. */
  async isReady(): Promise<boolean> {
    try {
      return (await this.readiness()).status === 200;
    } catch {
      return false;
    }
  }

  /** `GET /metrics` as text; expects 200. */
  async metrics(): Promise<string> {
    const answer = await send(`${this.baseUrl}/metrics`);
    if (answer.status !== 200) throw unexpected('metrics', answer);
    return answer.text;
  }

  /** `POST path` with a JSON body, whatever the answer. */
  postJson<T = unknown>(path: string, body: unknown): Promise<ApiResponse<T>> {
    return send<T>(`${this.baseUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
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
