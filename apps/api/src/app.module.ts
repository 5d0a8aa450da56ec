import { type DynamicModule, Module } from '@nestjs/common';
import { RevocationModule } from '@rescind/revocation-nest';
import { type Logger } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { AdminController } from './admin/admin.controller';
import { AdminKeyGuard, IntrospectionKeyGuard } from './admin/admin-key.guard';
import { AdminUsersController } from './admin/admin-users.controller';
import { AdminReplicasController } from './admin/admin-replicas.controller';
import { API_ERROR_ANSWERS } from './auth/auth.errors';
import { AuthModule } from './auth/auth.module';
import { baselineWiring } from './baselines/baseline-checkers';
import { APP_CONFIG, type AppConfig } from './config/app-config';
import { ConsoleController } from './console/console.controller';
import { HealthController } from './health/health.controller';
import { LoggingModule } from './logging/logging.module';
import { MeController } from './me/me.controller';
import { MetricsController } from './metrics/metrics.controller';
import { MetadataController } from './oauth/metadata.controller';
import { OAuthController } from './oauth/oauth.controller';
import { FloorController } from './floor/floor.controller';
import { BackChannelLogoutController } from './oidc/backchannel-logout.controller';
import { SsfEventsController } from './ssf/ssf-events.controller';

/** The Rescind API: one replica of N behind a load balancer. */
@Module({})
export class AppModule {
  /** `logger`: the replica's pino logger (`createLogger`), which Nest's `Logger` writes through. */
  static forRoot(config: AppConfig, logger: Logger): DynamicModule {
    const registry = new Registry();
    registry.setDefaultLabels({ instance: config.instanceId });
    collectDefaultMetrics({ register: registry });
    return {
      module: AppModule,
      global: true,
      imports: [
        LoggingModule.forRoot(logger),
        RevocationModule.forRoot(
          {
            redis: config.redisTopology,
            keyPrefix: config.keyPrefix,
            jwtSecret: config.jwtSecret,
            jwtPreviousSecrets: config.jwtPreviousSecrets,
            accessTokenTtlSeconds: config.accessTokenTtlSeconds,
            refreshTokenTtlSeconds: config.refreshTokenTtlSeconds,
            refreshReuseGraceMs: config.refreshReuseGraceMs,
            cacheMaxEntries: config.cacheMaxEntries,
            verifiedTokenCacheMax: config.verifiedTokenCacheMax,
            failMode: config.failMode,
            maxStalenessMs: config.maxStalenessMs,
            clockSkewMs: config.clockSkewMs,
            instanceId: config.instanceId,
            ...(config.region === undefined ? {} : { region: config.region }),
            presenceHeartbeatMs: config.presenceHeartbeatMs,
            ...(config.syncIntervalMs === undefined
              ? {}
              : { syncIntervalMs: config.syncIntervalMs }),
            ...(config.oidc === undefined
              ? {}
              : {
                  externalIssuers: [
                    {
                      issuer: config.oidc.issuer,
                      audience: config.oidc.audience,
                      tokenIdClaim: config.oidc.tokenIdClaim,
                      logoutRevokes: config.oidc.logoutRevokes,
                      ...(config.oidc.clientId === undefined
                        ? {}
                        : { clientId: config.oidc.clientId }),
                    },
                  ],
                }),
            ...(config.ssf === undefined
              ? {}
              : {
                  securityEventTransmitters: [
                    {
                      issuer: config.ssf.issuer,
                      audience: config.ssf.audience,
                      ...(config.ssf.pushToken === undefined
                        ? {}
                        : { pushToken: config.ssf.pushToken }),
                    },
                  ],
                }),
          },
          {
            registry,
            errorAnswers: API_ERROR_ANSWERS,
            // REVOCATION_STRATEGY: `local` keeps the library's checker, the others are baselines.
            ...baselineWiring(config),
          },
        ),
        AuthModule,
      ],
      controllers: [
        MeController,
        FloorController,
        HealthController,
        MetricsController,
        OAuthController,
        MetadataController,
        BackChannelLogoutController,
        AdminController,
        AdminReplicasController,
        SsfEventsController,
        AdminUsersController,
        ConsoleController,
      ],
      providers: [{ provide: APP_CONFIG, useValue: config }, AdminKeyGuard, IntrospectionKeyGuard],
      exports: [APP_CONFIG],
    };
  }
}
