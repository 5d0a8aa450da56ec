import { Controller, Get, Inject } from '@nestjs/common';
import { type AccessTokenClaims, AuthClaims } from '@rescind/revocation-nest';
import { APP_CONFIG, type AppConfig } from '../config/app-config';

/** What `GET /me` answers. */
export interface MeResponse {
  sub: string;
  username: unknown;
  jti: string;
  iat: number;
  exp: number;
  instance: string;
}

/** `GET /me`: the caller's verified claims and the replica that answered. */
@Controller('me')
export class MeController {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  @Get()
  me(@AuthClaims() claims: AccessTokenClaims): MeResponse {
    return {
      sub: claims.sub,
      username: claims['username'],
      jti: claims.jti,
      iat: claims.iat,
      exp: claims.exp,
      instance: this.config.instanceId,
    };
  }
}
