import * as http from 'node:http';

/** A status and body read in full. */
export interface ApiAnswer {
  readonly status: number;
  readonly body: string;
}

/**
 * A minimal keep-alive HTTP client for one replica. `node:http` with a pooled socket rather than
 * `fetch`, so that polling costs a loopback round trip and little else.
 */
export class ApiClient {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  private readonly host: string;
  private readonly port: number;

  constructor(readonly baseUrl: string) {
    const url = new URL(baseUrl);
    this.host = url.hostname;
    this.port = Number(url.port);
  }

  /**
   * Sends one request; `json` is serialised as a JSON body, `form` as an
   * `application/x-www-form-urlencoded` one.
   */
  request(
    method: string,
    path: string,
    options: { token?: string; json?: unknown; form?: Record<string, string> } = {},
  ): Promise<ApiAnswer> {
    const body =
      options.form !== undefined
        ? new URLSearchParams(options.form).toString()
        : options.json === undefined
          ? undefined
          : JSON.stringify(options.json);
    const headers: http.OutgoingHttpHeaders = {};
    if (options.token !== undefined) headers['authorization'] = `Bearer ${options.token}`;
    if (body !== undefined) {
      headers['content-type'] =
        options.form !== undefined ? 'application/x-www-form-urlencoded' : 'application/json';
      headers['content-length'] = Buffer.byteLength(body);
    }
    return new Promise((resolve, reject) => {
      const request = http.request(
        { host: this.host, port: this.port, method, path, headers, agent: this.agent },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () =>
            resolve({
              status: response.statusCode ?? 0,
              body: Buffer.concat(chunks).toString('utf8'),
            }),
          );
          response.on('error', reject);
        },
      );
      request.setTimeout(5_000, () => request.destroy(new Error(`${method} ${path}: timeout`)));
      request.on('error', reject);
      request.end(body);
    });
  }

  /** `POST /auth/register`; 201, or 409 when the user exists already. */
  async register(username: string, password: string): Promise<void> {
    const answer = await this.request('POST', '/auth/register', { json: { username, password } });
    if (answer.status !== 201 && answer.status !== 409) throw unexpected('register', answer);
  }

  /** `POST /auth/login`: a fresh access token. */
  async login(username: string, password: string): Promise<string> {
    const answer = await this.request('POST', '/auth/login', { json: { username, password } });
    const token = answer.status === 200 ? (JSON.parse(answer.body).access_token as unknown) : null;
    if (typeof token !== 'string') throw unexpected('login', answer);
    return token;
  }

  /** `POST /auth/logout`: 204 once the token is revoked. */
  async logout(token: string): Promise<void> {
    const answer = await this.request('POST', '/auth/logout', { token });
    if (answer.status !== 204) throw unexpected('logout', answer);
  }

  /** `GET /me`: the status only. */
  async meStatus(token: string): Promise<number> {
    return (await this.request('GET', '/me', { token })).status;
  }

  /** Closes pooled sockets. */
  close(): void {
    this.agent.destroy();
  }
}

function unexpected(what: string, answer: ApiAnswer): Error {
  return new Error(`${what}: unexpected ${answer.status} ${answer.body.slice(0, 200)}`);
}
