import {
  type ApiResponse,
  bearer,
  type Credentials,
  inBatches,
  newCredentials,
  send,
  unexpectedAnswer as unexpected,
} from '@rescind/testing';

export {
  type ApiResponse,
  type Credentials,
  inBatches,
  metricValue,
  newCredentials,
  send,
} from '@rescind/testing';

/** A thin client of one replica: the routes the scenarios use. */
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

  /**
   * `GET /me`, reduced to what a revocation test needs: 200, `revoked` (401 with
   * `ERR_TOKEN_REVOKED`, so that a token that merely expired is never mistaken for a revoked one),
   * or the status of anything else.
   */
  async check(token: string): Promise<'200' | 'revoked' | string> {
    const answer = await send<{ error?: unknown }>(`${this.baseUrl}/me`, {
      headers: bearer(token),
    });
    if (answer.status === 401 && answer.json?.error === 'ERR_TOKEN_REVOKED') return 'revoked';
    return String(answer.status);
  }

  /** `POST /auth/logout`; expects 204. */
  async logout(token: string): Promise<void> {
    const status = await this.logoutStatus(token);
    if (status !== 204) throw new Error(`logout: unexpected HTTP ${status}`);
  }

  /** `POST /auth/logout-all`; expects 204. */
  async logoutAll(token: string): Promise<void> {
    const answer = await send(`${this.baseUrl}/auth/logout-all`, {
      method: 'POST',
      headers: bearer(token),
    });
    if (answer.status !== 204) throw unexpected('logout-all', answer);
  }

  /** `POST /auth/logout`, whatever the answer (a failed request counts as status 0). */
  async logoutStatus(token: string): Promise<number> {
    try {
      return (await send(`${this.baseUrl}/auth/logout`, { method: 'POST', headers: bearer(token) }))
        .status;
    } catch {
      return 0;
    }
  }

  /** Whether `GET /health/ready` answers 200; a refused connection counts as not ready. */
  async isReady(): Promise<boolean> {
    try {
      return (await send(`${this.baseUrl}/health/ready`)).status === 200;
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
 * Registers one user on `clients[0]` and logs it in `count` times, spreading the logins over
 * `clients` in turn; returns the tokens in login order.
 */
export async function loginMany(
  clients: readonly ApiClient[],
  count: number,
  tag = 'user',
): Promise<string[]> {
  const credentials = newCredentials(tag);
  await (clients[0] as ApiClient).register(credentials);
  return inBatches(
    Array.from({ length: count }, (_, index) => index),
    8,
    (index) => (clients[index % clients.length] as ApiClient).login(credentials),
  );
}

/** The `jti` claim of a compact JWT, without verifying anything. */
export function jtiOf(token: string): string {
  const payload = token.split('.')[1] ?? '';
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as {
    jti?: unknown;
  };
  if (typeof claims.jti !== 'string') throw new Error('token without a jti');
  return claims.jti;
}
