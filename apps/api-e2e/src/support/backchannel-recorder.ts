import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';

/** The route of the API that takes back-channel logout tokens (README, "Routes"). */
export const BACKCHANNEL_LOGOUT_PATH = '/oidc/backchannel-logout';

/** One back-channel logout call the provider made, and what the replica answered. */
export interface BackChannelCall {
  /** The replica it was forwarded to. */
  readonly target: string;
  /** The `logout_token` form field (OpenID Connect Back-Channel Logout 1.0 §2.5). */
  readonly logoutToken: string | null;
  /** The replica's status, 0 when it gave no answer. */
  readonly status: number;
  /** The replica's `Cache-Control` header. */
  readonly cacheControl: string | null;
  /** The replica's body. */
  readonly body: string;
  /** `performance.now()` of this process when the replica's answer (its status line) arrived. */
  readonly answeredAtMs: number;
}

/**
 * The provider's `backchannel_logout_uri`: a loopback HTTP server that forwards each call to the
 * replica `target` names (`<base URL>` + {@link BACKCHANNEL_LOGOUT_PATH}), passes the replica's
 * answer back to the provider, and records the logout token and when the replica answered, so
 * that a test can time the fan-out from that moment and replay the token.
 */
export class BackChannelRecorder {
  /** Every call, in arrival order. */
  readonly calls: BackChannelCall[] = [];
  /** Base URL of the replica calls go to; none answers 503. */
  target: string | undefined;
  private server: Server | undefined;

  /** The URL to register as the client's `backchannel_logout_uri`. */
  get url(): string {
    return `http://127.0.0.1:${(this.server?.address() as AddressInfo).port}${BACKCHANNEL_LOGOUT_PATH}`;
  }

  /** Listens on a free loopback port. */
  async start(): Promise<void> {
    this.server = createServer((request, response) => void this.forward(request, response));
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
  }

  /** Closes the server and its connections. */
  stop(): Promise<void> {
    return new Promise((resolve) => {
      if (this.server === undefined) return resolve();
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  /** The last call, which must exist. */
  last(): BackChannelCall {
    const call = this.calls[this.calls.length - 1];
    if (call === undefined) throw new Error('the provider made no back-channel call');
    return call;
  }

  private async forward(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const target = this.target;
    if (target === undefined) {
      response.writeHead(503).end();
      return;
    }
    let status = 0;
    let cacheControl: string | null = null;
    let answer = '';
    let answeredAtMs = Number.NaN;
    try {
      const forwarded = await fetch(`${target}${BACKCHANNEL_LOGOUT_PATH}`, {
        method: 'POST',
        headers: { 'content-type': request.headers['content-type'] ?? '' },
        body,
        signal: AbortSignal.timeout(5_000),
      });
      answeredAtMs = performance.now();
      answer = await forwarded.text();
      ({ status } = forwarded);
      cacheControl = forwarded.headers.get('cache-control');
    } catch (error) {
      answeredAtMs = performance.now();
      answer = error instanceof Error ? error.message : String(error);
    }
    this.calls.push({
      target,
      logoutToken: new URLSearchParams(body).get('logout_token'),
      status,
      cacheControl,
      body: answer,
      answeredAtMs,
    });
    response.writeHead(status === 0 ? 502 : status, { 'content-type': 'application/json' });
    response.end(answer);
  }
}
