import { Controller, Get, Header, Req } from '@nestjs/common';
import { ApiResponse, ApiTags } from '@nestjs/swagger';
import { InvalidInputError } from '@rescind/revocation-core';
import { Public } from '@rescind/revocation-nest';
import { AUTHORIZATION_SERVER_METADATA } from '../openapi/openapi-schemas';

/** What the metadata needs of a request; Fastify's and Express's requests both have it. */
export interface OriginOfRequest {
  /** `http` or `https`, from `X-Forwarded-Proto` where the proxy is trusted. */
  readonly protocol?: string;
  /** `Host`, or `X-Forwarded-Host` where the proxy is trusted. */
  readonly host?: string;
}

/** RFC 8414 §2 metadata, the members this server has. */
export interface AuthorizationServerMetadata {
  issuer: string;
  revocation_endpoint: string;
  revocation_endpoint_auth_methods_supported: string[];
  introspection_endpoint: string;
  introspection_endpoint_auth_methods_supported: string[];
  response_types_supported: string[];
  service_documentation: string;
}

/** A host as `Host` may carry it: a name or an address, with an optional port; nothing else. */
const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/**
 * The public base URL the client reached this API under, e.g. `https://api.example.com`.
 * Derived from the request rather than configured, so that the issuer is always the one the
 * client built the well-known URL from (RFC 8414 §3.3 requires them identical), whatever name or
 * replica it used. Behind a proxy the proxy must pass `Host` on (or `X-Forwarded-Host` and
 * `X-Forwarded-Proto`, honoured where the proxy is trusted).
 * @throws InvalidInputError for a host that is not a plain host name or address
 */
export function publicBaseUrl(request: OriginOfRequest): string {
  const protocol = request.protocol === 'https' ? 'https' : 'http';
  const host = request.host ?? '';
  if (!HOST.test(host)) throw new InvalidInputError('The Host header is not a valid host');
  return `${protocol}://${host.toLowerCase()}`;
}

/** `GET /.well-known/oauth-authorization-server` (RFC 8414). */
@Public()
@ApiTags('oauth')
@Controller('.well-known')
export class MetadataController {
  /**
   * What an OAuth client library discovers: the revocation and introspection endpoints and how
   * each authenticates. There is no authorization or token endpoint (sign-in is `/auth/login`),
   * hence no response types. Cacheable: it changes only with a deployment, and caches key it by
   * host; the forwarded headers that also shape it are named in `Vary`.
   */
  @Get('oauth-authorization-server')
  @ApiResponse({ status: 200, schema: AUTHORIZATION_SERVER_METADATA })
  @Header('Cache-Control', 'public, max-age=3600')
  @Header('Vary', 'X-Forwarded-Proto, X-Forwarded-Host')
  metadata(@Req() request: OriginOfRequest): AuthorizationServerMetadata {
    const base = publicBaseUrl(request);
    return {
      issuer: base,
      revocation_endpoint: `${base}/oauth/revoke`,
      // RFC 7009 §2.1: public clients; the token itself is the proof.
      revocation_endpoint_auth_methods_supported: ['none'],
      introspection_endpoint: `${base}/oauth/introspect`,
      // RFC 8414 §2: names from the token endpoint authentication methods registry, or an
      // access token type (RFC 6750's `Bearer`) for a bearer credential.
      introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'Bearer'],
      response_types_supported: [],
      service_documentation: `${base}/docs`,
    };
  }
}
