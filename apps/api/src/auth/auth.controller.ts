import {
  applyDecorators,
  Body,
  Controller,
  Header,
  HttpCode,
  Ip,
  Post,
  Res,
  UseGuards,
} from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiResponse, ApiTags } from '@nestjs/swagger';
import { CREDENTIALS, ERROR, TOKEN_RESPONSE, USER } from '../openapi/openapi-schemas';
import {
  type AccessTokenClaims,
  AuthClaims,
  Public,
  RevocationService,
} from '@rescind/revocation-nest';
import { type HttpReply } from '../http/http-reply';
import { SameSiteJsonGuard } from '../http/same-site-json.guard';
import { AuthService } from './auth.service';
import { parseCredentials } from './credentials';

/** Sets the access-token cookie the browser sends back; an empty token with `Max-Age=0` clears it. */
function setAccessCookie(reply: HttpReply, token: string, maxAgeSeconds: number): void {
  reply.header(
    'Set-Cookie',
    `access_token=${token}; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age=${maxAgeSeconds}`,
  );
}

/**
 * A `POST` for the bearer to revoke its own tokens: authenticated, answering 204 when done.
 * @param description what the 204 means, for the OpenAPI document
 */
function RevokingRoute(path: string, description: string): MethodDecorator {
  return applyDecorators(
    ApiBearerAuth('access-token'),
    ApiResponse({ status: 204, description }),
    ApiResponse({ status: 401, schema: ERROR }),
    ApiResponse({ status: 403, description: 'sent from another site', schema: ERROR }),
    ApiResponse({ status: 415, description: 'a body that is not JSON', schema: ERROR }),
    Post(path),
    HttpCode(204),
    // It clears the cookie: not to be driven by another site (see SameSiteJsonGuard).
    UseGuards(new SameSiteJsonGuard({ bodyRequired: false })),
  );
}

/** `/auth/*`: register, login, logout and "log out everywhere". */
@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly revocations: RevocationService,
  ) {}

  @Public()
  @ApiBody({ schema: CREDENTIALS })
  @ApiResponse({ status: 201, schema: USER })
  @ApiResponse({ status: 400, schema: ERROR })
  @ApiResponse({ status: 409, description: 'username taken', schema: ERROR })
  @ApiResponse({
    status: 429,
    description: 'too many registrations from this address (Retry-After)',
    schema: ERROR,
  })
  @Post('register')
  @HttpCode(201)
  register(@Body() body: unknown, @Ip() ip: string): Promise<{ id: string; username: string }> {
    return this.auth.register(parseCredentials(body), ip);
  }

  @Public()
  @ApiBody({ schema: CREDENTIALS })
  @ApiResponse({
    status: 200,
    schema: TOKEN_RESPONSE,
    headers: {
      'Set-Cookie': { description: 'access_token=…; HttpOnly; Secure; SameSite=Strict; Path=/' },
      'Cache-Control': { description: 'no-store (RFC 6749 §5.1), with Pragma: no-cache' },
    },
  })
  @ApiResponse({ status: 400, schema: ERROR })
  @ApiResponse({ status: 401, description: 'wrong credentials', schema: ERROR })
  @ApiResponse({ status: 403, description: 'sent from another site', schema: ERROR })
  @ApiResponse({ status: 415, description: 'a body that is not JSON', schema: ERROR })
  @ApiResponse({
    status: 429,
    description: 'too many failed attempts (Retry-After)',
    schema: ERROR,
  })
  @Post('login')
  @HttpCode(200)
  // Sets the cookie: JSON from this site only, so that no other site signs a browser in.
  @UseGuards(new SameSiteJsonGuard({ bodyRequired: true }))
  // RFC 6749 §5.1: a response carrying a token must not be stored by any cache.
  @Header('Cache-Control', 'no-store')
  @Header('Pragma', 'no-cache')
  async login(
    @Body() body: unknown,
    @Ip() ip: string,
    @Res({ passthrough: true }) reply: HttpReply,
  ): Promise<{ access_token: string; token_type: 'Bearer'; expires_in: number }> {
    const issued = await this.auth.login(parseCredentials(body), ip);
    setAccessCookie(reply, issued.token, issued.expiresIn);
    return { access_token: issued.token, token_type: 'Bearer', expires_in: issued.expiresIn };
  }

  /** Revokes the presented token for the rest of its lifetime. */
  @RevokingRoute('logout', 'the token is revoked for the rest of its lifetime')
  async logout(
    @AuthClaims() claims: AccessTokenClaims,
    @Res({ passthrough: true }) reply: HttpReply,
  ): Promise<void> {
    await this.revocations.revokeToken(claims.jti, claims.exp * 1000, {
      reason: 'logout',
      actor: claims.sub,
    });
    setAccessCookie(reply, '', 0);
  }

  /** Revokes every token of the user issued before this call returns. */
  @RevokingRoute('logout-all', 'every token issued before this call is revoked')
  async logoutAll(
    @AuthClaims() claims: AccessTokenClaims,
    @Res({ passthrough: true }) reply: HttpReply,
  ): Promise<void> {
    await this.revocations.revokeAllForUser(claims.sub, {
      reason: 'logout-all',
      actor: claims.sub,
    });
    setAccessCookie(reply, '', 0);
  }
}
