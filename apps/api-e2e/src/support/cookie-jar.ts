/** One cookie as a browser keeps it. */
export interface StoredCookie {
  readonly name: string;
  readonly value: string;
  readonly path: string;
  readonly attributes: readonly string[];
}

/**
 * A browser's cookie jar, as far as these tests need one (RFC 6265 §5.3–5.4): it stores what
 * `Set-Cookie` says, replaces a cookie of the same name and path, deletes one given `Max-Age=0`,
 * and sends back, in `Cookie`, only the cookies whose `Path` covers the request's path. One
 * origin only (every replica stands for the same site behind a load balancer); `Secure` is
 * honoured as if the site were served over TLS by the balancer.
 */
export class CookieJar {
  private readonly cookies = new Map<string, StoredCookie>();

  /** Takes the `Set-Cookie` headers of an answer. */
  store(headers: Headers): void {
    for (const line of headers.getSetCookie()) {
      const [pair = '', ...rest] = line.split(';').map((part) => part.trim());
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      const path = rest.find((attr) => /^path=/i.test(attr))?.slice(5) ?? '/';
      const maxAge = rest.find((attr) => /^max-age=/i.test(attr))?.slice(8);
      const key = `${name}\n${path}`;
      if (maxAge !== undefined && Number(maxAge) <= 0) this.cookies.delete(key);
      else this.cookies.set(key, { name, value, path, attributes: rest });
    }
  }

  /** The `Cookie` header a browser sends to `path`, or `undefined` when no cookie applies. */
  headerFor(path: string): string | undefined {
    const sent = [...this.cookies.values()]
      .filter((cookie) => pathMatches(path, cookie.path))
      // RFC 6265 §5.4: longer paths first.
      .sort((a, b) => b.path.length - a.path.length)
      .map((cookie) => `${cookie.name}=${cookie.value}`);
    return sent.length === 0 ? undefined : sent.join('; ');
  }

  /** The cookie `name`, if held (any path). */
  get(name: string): StoredCookie | undefined {
    return [...this.cookies.values()].find((cookie) => cookie.name === name);
  }

  /** `fetch` through the jar: sends the matching cookies and stores what comes back. */
  async fetch(baseUrl: string, path: string, init: RequestInit = {}): Promise<Response> {
    const cookie = this.headerFor(path);
    const headers = new Headers(init.headers);
    if (cookie !== undefined) headers.set('cookie', cookie);
    const response = await fetch(`${baseUrl}${path}`, {
      ...init,
      headers,
      signal: init.signal ?? AbortSignal.timeout(5_000),
    });
    this.store(response.headers);
    return response;
  }
}

/** RFC 6265 §5.1.4 path-match. */
function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/';
}
