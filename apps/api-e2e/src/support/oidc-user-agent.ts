import { createHash, randomBytes } from 'node:crypto';
import { CookieJar } from './cookie-jar';

/** What the provider's token endpoint answers (RFC 6749 §5.1, OpenID Connect Core 1.0 §3.1.3.3). */
export interface ProviderTokens {
  readonly access_token: string;
  readonly token_type: string;
  readonly expires_in: number;
  readonly refresh_token?: string;
  readonly id_token?: string;
  readonly scope?: string;
}

/** The client a {@link OidcUserAgent} signs in to. */
export interface OidcClient {
  readonly id: string;
  readonly secret: string;
  readonly redirectUri: string;
}

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

/**
 * One browser at the provider (its own cookie jar, so its own provider session) plus the client's
 * back end: it runs the authorization code flow with PKCE (RFC 6749 §4.1, RFC 7636) over plain
 * HTTP with manual redirects, through `oidc-provider`'s development login and consent forms, and
 * ends the session with RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0 §2), which is
 * when the provider makes its back-channel logout calls.
 */
export class OidcUserAgent {
  private readonly jar = new CookieJar();

  constructor(
    private readonly issuer: string,
    private readonly client: OidcClient,
  ) {}

  /**
   * Signs `login` in, consenting to `openid offline_access` and `scope` for `resources` (RFC 8707
   * `resource`, repeated), and returns the authorization code.
   */
  async authorize(
    login: string,
    resources: readonly string[],
    scope: string,
  ): Promise<{ code: string; verifier: string }> {
    const verifier = randomBytes(32).toString('base64url');
    const query = new URLSearchParams({
      client_id: this.client.id,
      response_type: 'code',
      redirect_uri: this.client.redirectUri,
      scope: `openid offline_access ${scope}`,
      // offline_access is granted only with an explicit consent prompt (OpenID Connect Core 1.0 §11).
      prompt: 'consent',
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
      state: randomBytes(8).toString('base64url'),
    });
    for (const resource of resources) query.append('resource', resource);

    let location = await this.redirect(`/auth?${query}`);
    for (const prompt of ['login', 'consent']) {
      const page = await this.jar.fetch(this.issuer, location, { redirect: 'manual' });
      const html = await page.text();
      if (!html.includes(`name="prompt" value="${prompt}"`)) {
        throw new Error(`expected the ${prompt} form at ${location}, got HTTP ${page.status}`);
      }
      const fields: Record<string, string> =
        prompt === 'login' ? { prompt, login, password: 'any' } : { prompt };
      const resume = await this.redirect(location, {
        method: 'POST',
        headers: FORM,
        body: new URLSearchParams(fields),
      });
      location = await this.redirect(resume);
    }
    const callback = new URL(location, this.issuer);
    const code = callback.searchParams.get('code');
    if (!location.startsWith(this.client.redirectUri) || code === null) {
      throw new Error(`expected a redirect to the client with a code, got ${location}`);
    }
    return { code, verifier };
  }

  /** The client's code exchange (client_secret_basic) for a token for `resource`. */
  async exchange(
    code: { code: string; verifier: string },
    resource: string,
  ): Promise<ProviderTokens> {
    return this.token({
      grant_type: 'authorization_code',
      code: code.code,
      code_verifier: code.verifier,
      redirect_uri: this.client.redirectUri,
      resource,
    });
  }

  /** Signs `login` in and exchanges the code for tokens for `resource`. */
  async signIn(login: string, resource: string, scope = 'api'): Promise<ProviderTokens> {
    return this.exchange(await this.authorize(login, [resource], scope), resource);
  }

  /** The client's refresh (RFC 6749 §6), for `resource`. */
  refresh(refreshToken: string, resource: string): Promise<ProviderTokens> {
    return this.token({ grant_type: 'refresh_token', refresh_token: refreshToken, resource });
  }

  /**
   * RP-initiated logout of this browser's session: the logout page, then its form posted with
   * `logout=yes`. The provider answers once its back-channel calls have completed.
   */
  async endSession(): Promise<void> {
    const page = await this.jar.fetch(this.issuer, '/session/end', { redirect: 'manual' });
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(await page.text())?.[1];
    if (xsrf === undefined) throw new Error(`no logout form at /session/end (HTTP ${page.status})`);
    const done = await this.redirect('/session/end/confirm', {
      method: 'POST',
      headers: FORM,
      body: new URLSearchParams({ xsrf, logout: 'yes' }),
    });
    if (!done.endsWith('/session/end/success')) throw new Error(`logout ended at ${done}`);
  }

  /** Requests `path` and returns where it redirects to (a path on the provider, or a full URL elsewhere). */
  private async redirect(path: string, init: RequestInit = {}): Promise<string> {
    const response = await this.jar.fetch(this.issuer, path, { ...init, redirect: 'manual' });
    const location = response.headers.get('location');
    await response.arrayBuffer();
    if (response.status < 300 || response.status > 399 || location === null) {
      throw new Error(`expected a redirect from ${path}, got HTTP ${response.status}`);
    }
    const url = new URL(location, this.issuer);
    return url.origin === this.issuer ? `${url.pathname}${url.search}` : url.href;
  }

  private async token(form: Record<string, string>): Promise<ProviderTokens> {
    const basic = Buffer.from(
      `${encodeURIComponent(this.client.id)}:${encodeURIComponent(this.client.secret)}`,
    ).toString('base64');
    const response = await fetch(`${this.issuer}/token`, {
      method: 'POST',
      headers: { ...FORM, authorization: `Basic ${basic}` },
      body: new URLSearchParams(form),
      signal: AbortSignal.timeout(5_000),
    });
    const body = (await response.json()) as ProviderTokens & { error_description?: string };
    if (response.status !== 200 || typeof body.access_token !== 'string') {
      throw new Error(`token endpoint: HTTP ${response.status}: ${JSON.stringify(body)}`);
    }
    return body;
  }
}
