import { Controller, Get, Inject } from '@nestjs/common';
import { ApiResponse, ApiTags } from '@nestjs/swagger';
import { type AccessTokenClaims, Public } from '@rescind/revocation-nest';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { meResponse, type MeResponse } from '../me/me.controller';
import { ME } from '../openapi/openapi-schemas';

/**
 * Claims shaped like a real token's (a UUID `sub`, `jti` and `sid`, a username, two times), so
 * that the floor's answer is as large as `GET /me`'s.
 */
const FLOOR_CLAIMS: AccessTokenClaims = {
  sub: '00000000-0000-4000-8000-000000000000',
  username: 'floor',
  jti: '00000000-0000-4000-8000-000000000001',
  sid: '00000000-0000-4000-8000-000000000002',
  iat: 1_700_000_000,
  iatMs: 1_700_000_000_000,
  exp: 1_700_000_900,
};

/**
 * `GET /bench/floor`: a reference for benchmarks (load-tests/bench/README.md, "What each section
 * measures"). The same work as `GET /me` (the same hooks, route, JSON answer of the same shape and
 * size) without the guard: no token is read, verified or checked, and it reveals nothing. A
 * guarded `GET /me` measured against it on the same replica costs exactly the guard.
 */
@Public()
@ApiTags('bench')
@Controller('bench')
export class FloorController {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  @Get('floor')
  @ApiResponse({ status: 200, schema: ME, description: 'fixed claims: the shape of GET /me' })
  floor(): MeResponse {
    return meResponse(FLOOR_CLAIMS, this.config.instanceId);
  }
}
