import { Controller, Get, Inject } from '@nestjs/common';
import { ApiBearerAuth, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ERROR, ME } from '../openapi/openapi-schemas';
import { type AccessTokenClaims, AuthClaims } from '@rescind/revocation-nest';
import { APP_CONFIG, type AppConfig } from '../config/app-config';

/** What `GET /me` answers. */
export interface MeResponse {
  sub: string;
  username: unknown;
  jti: string;
  /** The session; absent from tokens issued before sessions. */
  sid: string | undefined;
  iat: number;
  exp: number;
  instance: string;
}

/** What `GET /me` answers for `claims` on replica `instance` (also the floor's answer). */
export function meResponse(claims: AccessTokenClaims, instance: string): MeResponse {
  return {
    sub: claims.sub,
    username: claims['username'],
    jti: claims.jti,
    sid: claims.sid,
    iat: claims.iat,
    exp: claims.exp,
    instance,
  };
}

/** `GET /me`: the caller's verified claims and the replica that answered. */
@ApiTags('me')
@ApiBearerAuth('access-token')
@Controller('me')
export class MeController {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  @Get()
  @ApiResponse({ status: 200, schema: ME })
  @ApiResponse({ status: 401, schema: ERROR })
  @ApiResponse({ status: 503, description: 'FAIL_MODE=closed and out of sync', schema: ERROR })
  me(@AuthClaims() claims: AccessTokenClaims): MeResponse {
    return meResponse(claims, this.config.instanceId);
  }
}
