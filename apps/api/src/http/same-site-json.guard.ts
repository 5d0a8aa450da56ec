import { type CanActivate, type ExecutionContext, HttpException, HttpStatus } from '@nestjs/common';

/** What the guard reads of a request; Fastify's and Express's requests both have it. */
export interface RequestOrigin {
  readonly headers: Record<string, string | string[] | undefined>;
  /** The host the client asked for (`Host`, or `X-Forwarded-Host` where the proxy is trusted). */
  readonly host?: string;
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Whether the `Origin` header names the host the request was sent to. Only host and port are
 * compared: behind a proxy that ends TLS the API sees `http` while the browser says `https`.
 * `Origin: null` (a sandboxed frame, a redirect across sites) is never the same origin.
 */
export function isSameOrigin(origin: string, host: string | undefined): boolean {
  if (host === undefined || host === '') return false;
  let from: URL;
  try {
    from = new URL(origin);
  } catch {
    return false;
  }
  if (from.protocol !== 'http:' && from.protocol !== 'https:') return false;
  let to: URL;
  try {
    // The origin's scheme, so that a default port written out (`:443`) compares equal.
    to = new URL(`${from.protocol}//${host}`);
  } catch {
    return false;
  }
  return from.host === to.host;
}

/** Whether a `Content-Type` value is JSON (`application/json`, with or without parameters). */
export function isJsonContentType(value: string): boolean {
  return /^application\/json\s*(?:;|$)/i.test(value.trim());
}

function refuse(status: HttpStatus, error: string, message: string): HttpException {
  return new HttpException({ statusCode: status, error, message }, status);
}

/**
 * For the routes that set or clear the `access_token` cookie (login, logout, logout-all): a
 * cross-site page must not be able to drive them from a victim's browser. Login CSRF needs no
 * cookie of the victim, only a form that posts the attacker's credentials, after which the
 * browser holds the attacker's session; `SameSite` cannot stop that.
 *
 * - A browser marks the request: `Sec-Fetch-Site: cross-site`, or an `Origin` that is not this
 *   host, is refused with 403. Clients that are not browsers send neither and pass.
 * - JSON only, 415 otherwise: an HTML form can only send `application/x-www-form-urlencoded`,
 *   `multipart/form-data` or `text/plain`, and a cross-site `fetch` of JSON needs a CORS
 *   preflight this API never grants. With `bodyRequired` false (logout) a request without a body
 *   and without a `Content-Type` passes.
 */
export class SameSiteJsonGuard implements CanActivate {
  constructor(private readonly options: { readonly bodyRequired: boolean }) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<RequestOrigin>();
    const fetchSite = single(request.headers['sec-fetch-site']);
    const origin = single(request.headers['origin']);
    if (
      fetchSite?.toLowerCase() === 'cross-site' ||
      (origin !== undefined && !isSameOrigin(origin, request.host))
    ) {
      throw refuse(
        HttpStatus.FORBIDDEN,
        'ERR_CROSS_SITE_REQUEST',
        'This route does not accept requests from another site',
      );
    }
    const type = single(request.headers['content-type']);
    if (type === undefined ? this.options.bodyRequired : !isJsonContentType(type)) {
      throw refuse(
        HttpStatus.UNSUPPORTED_MEDIA_TYPE,
        'ERR_UNSUPPORTED_MEDIA_TYPE',
        'Send the body as application/json',
      );
    }
    return true;
  }
}
