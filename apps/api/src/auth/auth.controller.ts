import {
  applyDecorators,
  Body,
  Controller,
  Header,
  Headers,
  HttpCode,
  Ip,
  Post,
  Res,
  UseGuards,
} from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiResponse, ApiTags } from '@nestjs/swagger';
import {
  CREDENTIALS,
  ERROR,
  OAUTH_ERROR,
  REFRESH_REQUEST,
  TOKEN_RESPONSE,
  USER,
} from '../openapi/openapi-schemas';
import {
  type AccessTokenClaims,
  AuthClaims,
  type IssuedSession,
  Public,
  RevocationService,
  SessionService,
} from '@rescind/revocation-nest';
import { type HttpReply } from '../http/http-reply';
import { SameSiteJsonGuard } from '../http/same-site-json.guard';
import { refreshTokenOf } from '../sessions/refresh-request';
import { clientContext } from '../sessions/session-context';
import { clearSessionCookies, setSessionCookies } from '../sessions/session-cookies';
import { AuthService } from './auth.service';
import { parseCredentials } from './credentials';

/** What login and refresh answer (RFC 6749 §5.1). */
export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  refresh_token: string;
  refresh_expires_in: number;
}

/** The login bulkhead's answer (docs/design.md, "Login bulkhead"). */
const OVERLOADED = 'every password-hashing slot of this replica busy (Retry-After)';

type RequestHeaders = Record<string, string | string[] | undefined>;

/** The answer to a login or a refresh, with both cookies set on `reply`. */
function issue(reply: HttpReply, session: IssuedSession): TokenResponse {
  const pair = {
    accessToken: session.access.token,
    expiresIn: session.access.expiresIn,
    refreshToken: session.refreshToken,
    refreshExpiresIn: session.refreshExpiresIn,
  };
  setSessionCookies(reply, pair);
  return {
    access_token: pair.accessToken,
    token_type: 'Bearer',
    expires_in: pair.expiresIn,
    refresh_token: pair.refreshToken,
    refresh_expires_in: pair.refreshExpiresIn,
  };
}

const COOKIES_SET = {
  'Set-Cookie': {
    description:
      'access_token=…; HttpOnly; Secure; SameSite=Strict; Path=/ and refresh_token=…; HttpOnly; Secure; SameSite=Strict; Path=/auth',
  },
  'Cache-Control': { description: 'no-store (RFC 6749 §5.1), with Pragma: no-cache' },
};

/**
 * A `POST` for the bearer to end its own sessions: authenticated, answering 204 when done.
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
    // It clears the cookies: not to be driven by another site (see SameSiteJsonGuard).
    UseGuards(new SameSiteJsonGuard({ bodyRequired: false })),
  );
}

/** `/auth/*`: register, login, refresh, logout and "log out everywhere". */
@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly sessions: SessionService,
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
  @ApiResponse({ status: 503, description: OVERLOADED, schema: ERROR })
  @Post('register')
  @HttpCode(201)
  register(@Body() body: unknown, @Ip() ip: string): Promise<{ id: string; username: string }> {
    return this.auth.register(parseCredentials(body), ip);
  }

  @Public()
  @ApiBody({ schema: CREDENTIALS })
  @ApiResponse({ status: 200, schema: TOKEN_RESPONSE, headers: COOKIES_SET })
  @ApiResponse({ status: 400, schema: ERROR })
  @ApiResponse({ status: 401, description: 'wrong credentials', schema: ERROR })
  @ApiResponse({ status: 403, description: 'sent from another site', schema: ERROR })
  @ApiResponse({ status: 415, description: 'a body that is not JSON', schema: ERROR })
  @ApiResponse({
    status: 429,
    description: 'too many failed attempts (Retry-After)',
    schema: ERROR,
  })
  @ApiResponse({ status: 503, description: OVERLOADED, schema: ERROR })
  @Post('login')
  @HttpCode(200)
  // Sets the cookies: JSON from this site only, so that no other site signs a browser in.
  @UseGuards(new SameSiteJsonGuard({ bodyRequired: true }))
  // RFC 6749 §5.1: a response carrying a token must not be stored by any cache.
  @Header('Cache-Control', 'no-store')
  @Header('Pragma', 'no-cache')
  async login(
    @Body() body: unknown,
    @Ip() ip: string,
    @Headers() headers: RequestHeaders,
    @Res({ passthrough: true }) reply: HttpReply,
  ): Promise<TokenResponse> {
    const session = await this.auth.login(parseCredentials(body), ip, clientContext(headers, ip));
    return issue(reply, session);
  }

  /**
   * RFC 6749 §6 with rotation (RFC 9700 §4.14.2): the refresh token is spent and a new pair
   * answered. A token rotated out longer than `REFRESH_REUSE_GRACE_MS` ago is reuse: the
   * session ends everywhere (docs/design.md, "Sessions").
   */
  @Public()
  @ApiBody({ schema: REFRESH_REQUEST, required: false })
  @ApiResponse({ status: 200, schema: TOKEN_RESPONSE, headers: COOKIES_SET })
  @ApiResponse({
    status: 400,
    description: '{"error":"invalid_request"}: no refresh token',
    schema: OAUTH_ERROR,
  })
  @ApiResponse({
    status: 401,
    description:
      '{"error":"invalid_grant"}: unknown, expired, revoked, or reused (the session then ends)',
    schema: OAUTH_ERROR,
  })
  @ApiResponse({ status: 403, description: 'sent from another site', schema: ERROR })
  @ApiResponse({ status: 415, description: 'a body that is not JSON', schema: ERROR })
  @Post('refresh')
  @HttpCode(200)
  // Sets the cookies (and may take the refresh cookie): never driven by another site.
  @UseGuards(new SameSiteJsonGuard({ bodyRequired: false }))
  @Header('Cache-Control', 'no-store')
  @Header('Pragma', 'no-cache')
  async refresh(
    @Body() body: unknown,
    @Ip() ip: string,
    @Headers() headers: RequestHeaders,
    @Res({ passthrough: true }) reply: HttpReply,
  ): Promise<TokenResponse> {
    // An InvalidGrantError is answered 401 {"error":"invalid_grant",…} by the module's filter.
    const session = await this.auth.refresh(
      refreshTokenOf(body, headers),
      clientContext(headers, ip),
    );
    return issue(reply, session);
  }

  /** Ends the presented token's session (the token, its siblings and its refresh token). */
  @RevokingRoute('logout', "the token's session is revoked: its access and refresh tokens")
  async logout(
    @AuthClaims() claims: AccessTokenClaims,
    @Res({ passthrough: true }) reply: HttpReply,
  ): Promise<void> {
    const audit = { reason: 'logout', actor: claims.sub };
    const sid = claims.sid;
    const ended =
      sid !== undefined && (await this.sessions.end(sid, { sub: claims.sub, ...audit }));
    // A token from before sessions, or whose session is already gone: the token itself.
    if (!ended) await this.revocations.revokeToken(claims.jti, claims.exp * 1000, audit);
    clearSessionCookies(reply);
  }

  /** Ends every session of the user and revokes every token issued before this call returns. */
  @RevokingRoute('logout-all', 'every session ends; every token issued before this call is revoked')
  async logoutAll(
    @AuthClaims() claims: AccessTokenClaims,
    @Res({ passthrough: true }) reply: HttpReply,
  ): Promise<void> {
    await this.sessions.endAll(claims.sub, { reason: 'logout-all', actor: claims.sub });
    clearSessionCookies(reply);
  }
}
