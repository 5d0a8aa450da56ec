import { Controller, Get, HttpCode, Res } from '@nestjs/common';
import { ApiResponse, ApiTags } from '@nestjs/swagger';
import { Public, RevocationHealth, type RevocationReadiness } from '@rescind/revocation-nest';
import { type HttpReply } from '../http/http-reply';

/** Liveness and readiness probes. */
@Public()
@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(private readonly health: RevocationHealth) {}

  /** 200 while the process runs. */
  @Get('live')
  @HttpCode(200)
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** 200 only when hydrated, subscribed, caught up and fresh; 503 with the reasons otherwise. */
  @Get('ready')
  @ApiResponse({ status: 200, description: 'hydrated, subscribed, caught up' })
  @ApiResponse({ status: 503, description: 'not ready, with the reasons' })
  ready(@Res({ passthrough: true }) reply: HttpReply): RevocationReadiness {
    const readiness = this.health.readiness();
    reply.status(readiness.ready ? 200 : 503);
    return readiness;
  }
}
