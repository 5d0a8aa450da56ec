import { Controller, Get, Header, Inject } from '@nestjs/common';
import { ApiProduces, ApiTags } from '@nestjs/swagger';
import { Public, RESCIND_METRICS_REGISTRY } from '@rescind/revocation-nest';
import { type Registry } from 'prom-client';

/** `GET /metrics` in the Prometheus text format. */
@Public()
@ApiTags('metrics')
@ApiProduces('text/plain')
@Controller('metrics')
export class MetricsController {
  constructor(@Inject(RESCIND_METRICS_REGISTRY) private readonly registry: Registry) {}

  @Get()
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  metrics(): Promise<string> {
    return this.registry.metrics();
  }
}
