import { BadRequestException, Body, Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiConsumes, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ERROR, INTROSPECTION, TOKEN_FORM } from '../openapi/openapi-schemas';
import { RescindError } from '@rescind/revocation-core';
import {
  type AccessTokenClaims,
  Public,
  RevocationService,
  TokenService,
} from '@rescind/revocation-nest';
import { AdminKeyGuard } from '../admin/admin-key.guard';

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
    };

/** The `token` parameter. @throws BadRequestException answered as RFC 6749 §5.2 `invalid_request` */
function tokenParameter(body: unknown): string {
  const token =
    typeof body === 'object' && body !== null
      ? (body as Record<string, unknown>)['token']
      : undefined;
  if (typeof token !== 'string' || token.length === 0) {
    throw new BadRequestException({
      error: 'invalid_request',
      error_description: 'token is required',
    });
  }
  return token;
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
  ) {}

  /**
   * RFC 7009 §2.2: 200 whether or not the token was valid, so that the answer reveals nothing;
   * `token_type_hint` is accepted but not trusted (only access tokens exist here).
   */
  @Post('revoke')
  @ApiBody({ schema: TOKEN_FORM })
  @ApiResponse({ status: 200, description: 'empty body, also for unknown or invalid tokens' })
  @ApiResponse({ status: 400, description: '{"error":"invalid_request"} without token' })
  @ApiResponse({
    status: 503,
    description: 'the store cannot take the write (Retry-After)',
    schema: ERROR,
  })
  @HttpCode(200)
  async revoke(@Body() body: unknown): Promise<void> {
    const claims = this.verifyQuietly(tokenParameter(body));
    if (claims !== undefined) {
      await this.revocations.revokeToken(claims.jti, claims.exp * 1000, {
        reason: 'oauth-revoke',
        actor: claims.sub,
      });
    }
  }

  /** RFC 7662 §2.1–2.2, for resource servers holding the admin key. */
  @Post('introspect')
  @ApiBearerAuth('admin-key')
  @ApiBody({ schema: TOKEN_FORM })
  @ApiResponse({ status: 200, schema: INTROSPECTION })
  @ApiResponse({ status: 401, description: 'no or wrong admin key', schema: ERROR })
  @UseGuards(AdminKeyGuard)
  @HttpCode(200)
  async introspect(@Body() body: unknown): Promise<IntrospectionResponse> {
    const claims = this.verifyQuietly(tokenParameter(body));
    if (claims === undefined || (await this.revocations.isRevoked(claims)))
      return { active: false };
    return {
      active: true,
      sub: claims.sub,
      username: claims['username'],
      jti: claims.jti,
      // RFC 7662 §2.2: NumericDate as an integer; the token type as RFC 6749 §7.1 names it.
      iat: Math.floor(claims.iat),
      exp: claims.exp,
      token_type: 'Bearer',
    };
  }

  private verifyQuietly(token: string): AccessTokenClaims | undefined {
    try {
      return this.tokens.verify(token);
    } catch (error) {
      if (error instanceof RescindError) return undefined;
      throw error;
    }
  }
}
