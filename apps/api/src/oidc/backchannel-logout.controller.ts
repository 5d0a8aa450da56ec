import {
  BadRequestException,
  Body,
  Controller,
  Header,
  Headers,
  HttpCode,
  Post,
} from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiResponse, ApiTags } from '@nestjs/swagger';
import { InvalidInputError } from '@rescind/revocation-core';
import { BackChannelLogoutService, Public } from '@rescind/revocation-nest';
import { ERROR, LOGOUT_TOKEN_FORM, OAUTH_ERROR } from '../openapi/openapi-schemas';

function invalidRequest(description: string): BadRequestException {
  return new BadRequestException({ error: 'invalid_request', error_description: description });
}

/** Whether a `Content-Type` value is `application/x-www-form-urlencoded` (parameters allowed). */
export function isFormContentType(value: string | undefined): boolean {
  return value !== undefined && /^application\/x-www-form-urlencoded\s*(?:;|$)/i.test(value.trim());
}

/**
 * The `logout_token` parameter of a form body, given exactly once (OpenID Connect Back-Channel
 * Logout 1.0 §2.5; RFC 6749 §3.2: a parameter must not be repeated, `a=1&a=2` arrives as an
 * array). A JSON body is refused even with a `logout_token` member: §2.5 posts a form.
 * @throws BadRequestException answered as `invalid_request`
 */
export function logoutTokenParameter(contentType: string | undefined, body: unknown): string {
  if (!isFormContentType(contentType)) {
    throw invalidRequest('Send logout_token as application/x-www-form-urlencoded');
  }
  const token =
    typeof body === 'object' && body !== null
      ? (body as Record<string, unknown>)['logout_token']
      : undefined;
  if (Array.isArray(token)) throw invalidRequest('logout_token must be given once');
  if (typeof token !== 'string' || token.length === 0) {
    throw invalidRequest('logout_token is required');
  }
  return token;
}

/**
 * OpenID Connect Back-Channel Logout 1.0 §2.5 and §2.8: the provider posts a logout token here,
 * server to server (README, "Routes"; docs/design.md, "Back-channel logout"). Public: the token's
 * signature is the proof. It takes no cookie and sets none, so the same-site JSON rule of the
 * login routes (`SameSiteJsonGuard`) does not apply, and a provider sends no `Origin` anyway.
 */
@Public()
@ApiTags('oidc')
@ApiConsumes('application/x-www-form-urlencoded')
@Controller('oidc')
export class BackChannelLogoutController {
  constructor(private readonly logouts: BackChannelLogoutService) {}

  /**
   * §2.8: 200 once the logout is applied (on this replica before it answers, on the others
   * within the fan-out bound), 400 `invalid_request` for anything else, also a replayed token and
   * a server with no provider configured for back-channel logout; `Cache-Control: no-store`.
   */
  @Post('backchannel-logout')
  @ApiBody({ schema: LOGOUT_TOKEN_FORM })
  @ApiResponse({ status: 200, description: 'empty body: the session (or user) is logged out' })
  @ApiResponse({
    status: 400,
    description: 'missing, repeated, invalid or replayed logout token; no provider configured',
    schema: OAUTH_ERROR,
  })
  @ApiResponse({
    status: 503,
    description: 'the store cannot take the write (Retry-After)',
    schema: ERROR,
  })
  @HttpCode(200)
  // §2.8: the answer must not be cached.
  @Header('Cache-Control', 'no-store')
  @Header('Pragma', 'no-cache')
  async logout(
    @Headers('content-type') contentType: string | undefined,
    @Body() body: unknown,
  ): Promise<undefined> {
    const token = logoutTokenParameter(contentType, body);
    try {
      await this.logouts.logout(token);
    } catch (error) {
      if (error instanceof InvalidInputError) throw invalidRequest(error.message);
      throw error;
    }
    return undefined;
  }
}
