import {
  BadRequestException,
  Body,
  Controller,
  Header,
  Headers,
  HttpCode,
  Post,
  UseGuards,
} from '@nestjs/common';
import {
  ApiBasicAuth,
  ApiBearerAuth,
  ApiBody,
  ApiConsumes,
  ApiHeader,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import { ERROR, INTROSPECTION, TOKEN_FORM } from '../openapi/openapi-schemas';
import { RescindError } from '@rescind/revocation-core';
import {
  type AccessTokenClaims,
  isRefreshTokenShape,
  Public,
  RevocationService,
  SessionService,
  TokenService,
} from '@rescind/revocation-nest';
import { IntrospectionKeyGuard } from '../admin/admin-key.guard';
import { AuthService } from '../auth/auth.service';

/** RFC 7662 §2.2 answer. */
export type IntrospectionResponse =
  | { active: false }
  | {
      active: true;
      sub: string;
      username: unknown;
      jti: string;
      iat: number;
      exp: number;
      token_type: 'Bearer';
      sid?: string;
      /** An external issuer's token: its `iss` (its ids stay namespaced). */
      iss?: string;
    }
  | {
      active: true;
      sub: string;
      username?: unknown;
      sid: string;
      exp: number;
      token_type: 'refresh_token';
    };

function invalidRequest(description: string): BadRequestException {
  return new BadRequestException({ error: 'invalid_request', error_description: description });
}

/**
 * The `token` parameter, given exactly once (RFC 6749 §3.2: a parameter must not be repeated;
 * `token=a&token=b` arrives as an array).
 * @throws BadRequestException answered as RFC 6749 §5.2 `invalid_request`
 */
function tokenParameter(body: unknown): string {
  const token =
    typeof body === 'object' && body !== null
      ? (body as Record<string, unknown>)['token']
      : undefined;
  if (Array.isArray(token)) throw invalidRequest('token must be given once');
  if (typeof token !== 'string' || token.length === 0) throw invalidRequest('token is required');
  return token;
}

/**
 * Whether an `Accept` header names `application/json` itself (with a non-zero weight). Wildcards
 * do not count: curl and `fetch` send `*\/*` by default, and the documented answer for them is
 * the empty body; a client that asks for JSON by name parses the body as JSON and gets `{}`.
 */
export function asksForJson(accept: string | undefined): boolean {
  if (accept === undefined) return false;
  return accept.split(',').some((range) => {
    const [type, ...parameters] = range.split(';').map((part) => part.trim().toLowerCase());
    if (type !== 'application/json') return false;
    const weight = parameters.find((parameter) => parameter.startsWith('q='));
    return weight === undefined || Number(weight.slice(2)) > 0;
  });
}

/** `/oauth/revoke` (RFC 7009) and `/oauth/introspect` (RFC 7662). */
@Public()
@ApiTags('oauth')
@ApiConsumes('application/x-www-form-urlencoded')
@Controller('oauth')
export class OAuthController {
  constructor(
    private readonly tokens: TokenService,
    private readonly revocations: RevocationService,
    private readonly sessions: SessionService,
    private readonly auth: AuthService,
  ) {}

  /**
   * RFC 7009 §2.2: 200 whether or not the token was valid, so that the answer reveals nothing.
   * A refresh token ends its session (§2.1: the access tokens of the grant go with it); an access
   * token is revoked by its `jti`, an external issuer's one by its namespaced `jti`
   * (docs/design.md, "External issuers"). The two shapes cannot be mistaken for each other (a JWT has
   * dots, a refresh token none), so `token_type_hint` is accepted but not needed. Every caller is
   * a public client (RFC 7009 §2.1): holding the token is the proof, and revoking a token can
   * only harm whoever holds it. The body is empty, or `{}` for a client that asks for JSON by
   * name (RFC 7009 allows either; some clients fail to parse an empty body as JSON).
   */
  @Post('revoke')
  @ApiBody({ schema: TOKEN_FORM })
  @ApiHeader({ name: 'Accept', required: false, description: 'application/json: answer {}' })
  @ApiResponse({
    status: 200,
    description:
      'empty body, also for unknown or invalid tokens; {} when Accept names application/json',
  })
  @ApiResponse({
    status: 400,
    description: '{"error":"invalid_request"} without token, or with token twice',
  })
  @ApiResponse({
    status: 503,
    description: 'the store cannot take the write (Retry-After)',
    schema: ERROR,
  })
  @HttpCode(200)
  async revoke(
    @Body() body: unknown,
    @Headers('accept') accept: string | undefined,
  ): Promise<Record<string, never> | undefined> {
    const token = tokenParameter(body);
    if (isRefreshTokenShape(token)) {
      const session = await this.sessions.describe(token);
      if (session !== undefined) {
        await this.sessions.end(session.sid, {
          sub: session.sub,
          reason: 'oauth-revoke',
          actor: session.sub,
        });
      }
      return asksForJson(accept) ? {} : undefined;
    }
    const claims = await this.verifyQuietly(token);
    if (claims !== undefined) {
      await this.revocations.revokeToken(claims.jti, claims.exp * 1000, {
        reason: 'oauth-revoke',
        actor: claims.sub,
      });
    }
    return asksForJson(accept) ? {} : undefined;
  }

  /**
   * RFC 7662 §2.1–2.2, for resource servers holding the admin key: as a Bearer credential, or as
   * the password of HTTP Basic (`client_secret_basic`, any client id).
   */
  @Post('introspect')
  @ApiBearerAuth('admin-key')
  @ApiBasicAuth('admin-key-basic')
  @ApiBody({ schema: TOKEN_FORM })
  @ApiResponse({ status: 200, schema: INTROSPECTION })
  @ApiResponse({ status: 400, description: '{"error":"invalid_request"}' })
  @ApiResponse({ status: 401, description: 'no or wrong admin key', schema: ERROR })
  @UseGuards(IntrospectionKeyGuard)
  @HttpCode(200)
  // The answer carries the token's claims: no cache may keep it (as RFC 6749 §5.1 asks of tokens).
  @Header('Cache-Control', 'no-store')
  @Header('Pragma', 'no-cache')
  async introspect(@Body() body: unknown): Promise<IntrospectionResponse> {
    const token = tokenParameter(body);
    if (isRefreshTokenShape(token)) return this.introspectRefreshToken(token);
    const claims = await this.verifyQuietly(token);
    if (claims === undefined || (await this.revocations.isRevoked(claims)))
      return { active: false };
    const { sid, iss } = claims as AccessTokenClaims & { iss?: unknown };
    return {
      active: true,
      sub: claims.sub,
      username: claims['username'],
      jti: claims.jti,
      // RFC 7662 §2.2: NumericDate as an integer; the token type as RFC 6749 §7.1 names it.
      iat: Math.floor(claims.iat),
      exp: claims.exp,
      token_type: 'Bearer',
      ...(sid === undefined ? {} : { sid }),
      // Only an external issuer's tokens carry an `iss` (ours have none).
      ...(typeof iss === 'string' ? { iss } : {}),
    };
  }

  /** A refresh token is active while it is its session's current one, unexpired and unrevoked. */
  private async introspectRefreshToken(token: string): Promise<IntrospectionResponse> {
    const session = await this.sessions.describe(token);
    if (session === undefined) return { active: false };
    const { username } = await this.auth.claimsOf(session.sub);
    return {
      active: true,
      sub: session.sub,
      ...(username === undefined ? {} : { username }),
      sid: session.sid,
      exp: Math.floor(session.expiresAtMs / 1000),
      token_type: 'refresh_token',
    };
  }

  /** Our tokens and the external issuers' alike; undefined for any token that does not verify. */
  private async verifyQuietly(token: string): Promise<AccessTokenClaims | undefined> {
    try {
      return await this.tokens.verify(token);
    } catch (error) {
      if (error instanceof RescindError) return undefined;
      throw error;
    }
  }
}
