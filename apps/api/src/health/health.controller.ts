import { Controller, Get, HttpCode, Res } from '@nestjs/common';
import { Public, RevocationHealth, type RevocationReadiness } from '@rescind/revocation-nest';
import { type HttpReply } from '../http/http-reply';

/** Liveness and readiness probes. */
@Public()
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
  ready(@Res({ passthrough: true }) reply: HttpReply): RevocationReadiness {
    const readiness = this.health.readiness();
    reply.status(readiness.ready ? 200 : 503);
    return readiness;
  }
}
