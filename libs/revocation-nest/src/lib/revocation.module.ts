import { hostname } from 'node:os';
import {
  type DynamicModule,
  Global,
  type INestApplication,
  Logger,
  Module,
  type ModuleMetadata,
  type Provider,
  type Type,
} from '@nestjs/common';
import { APP_FILTER, APP_GUARD, HttpAdapterHost } from '@nestjs/core';
import {
  type Clock,
  RevocationCache,
  RevocationSynchronizer,
  type SyncObserver,
} from '@rescind/revocation-core';
import {
  createCommandClient,
  RedisKeys,
  type RedisClient,
  RevocationStore,
  SessionStore,
} from '@rescind/revocation-redis';
import { Registry } from 'prom-client';
import { BackChannelLogoutService } from './back-channel-logout.service';
import { LocalRevocationChecker } from './local-revocation.checker';
import { type ErrorAnswer, RescindExceptionFilter } from './rescind-exception.filter';
import { RevocationChecker } from './revocation.checker';
import { RevocationConnectCheck } from './revocation-connect.check';
import { REVOCATION_CLOCK, REVOCATION_OPTIONS, REVOCATION_REDIS } from './revocation.constants';
import { RevocationEventsController } from './revocation-events.controller';
import { RevocationEventsServer } from './revocation-events.server';
import { RevocationGuard } from './revocation.guard';
import { RevocationHealth } from './revocation-health';
import { PRESENCE_SIGNAL, type PresenceSignal } from './presence-signal';
import { RevocationPresence } from './revocation-presence';
import { RevocationMetrics } from './revocation-metrics';
import {
  type ResolvedRevocationOptions,
  resolveRevocationOptions,
  type RevocationModuleOptions,
} from './revocation-module-options';
import { RevocationService } from './revocation.service';
import { RevocationSyncService } from './revocation-sync.service';
import { SecurityEventReceiver } from './security-event.receiver';
import { SessionService } from './session.service';
import { StoreRevocationLookup } from './store-revocation.lookup';
import { TokenService } from './token.service';

/** Injection token of the prom-client registry holding the `rescind_*` metrics. */
export const RESCIND_METRICS_REGISTRY = Symbol('RESCIND_METRICS_REGISTRY');

/** How the module plugs into the application. */
export interface RevocationModuleWiring {
  /** Guard every route unless marked `@Public()`. @default true */
  globalGuard?: boolean;
  /** Install the exception filter that answers RFC 6750 challenges. @default true */
  exceptionFilter?: boolean;
  /** The application's own error codes and their HTTP answers. */
  errorAnswers?: Readonly<Record<string, ErrorAnswer>>;
  /** Registry for the metrics. @default a new one */
  registry?: Registry;
  /**
   * The `RevocationChecker` the guard asks, in place of the in-memory one: override for
   * benchmarks (a baseline that asks Redis on every request, or checks nothing). The class is
   * built in the module, so it may inject `StoreRevocationLookup`, `RevocationMetrics`,
   * `RevocationCache` or `REVOCATION_CLOCK`. Tests may instead `overrideProvider(RevocationChecker)`.
   * @default the in-memory checker (`LocalRevocationChecker`), the product
   */
  checker?: Type<RevocationChecker>;
}

/** Options of `RevocationModule.forRootAsync()`. */
export interface RevocationModuleAsyncOptions
  extends Pick<ModuleMetadata, 'imports'>, RevocationModuleWiring {
  inject?: unknown[];
  useFactory: (...args: never[]) => RevocationModuleOptions | Promise<RevocationModuleOptions>;
}

function defaultInstanceId(): string {
  return `${hostname()}-${process.pid}`;
}

function syncLogger(metrics: RevocationMetrics): SyncObserver {
  const log = new Logger('RevocationSync');
  let lastErrorMs = 0;
  // Until the first hydration, failures are the connections coming up; not worth a warning.
  let hydrated = false;
  return {
    onApplied: (_event, lagMs) => metrics.propagationSeconds.observe(Math.max(0, lagMs) / 1000),
    onMalformed: (reason) => {
      metrics.malformedEvents.inc();
      log.warn(reason);
    },
    onResync: (cause, applied) => {
      hydrated = true;
      metrics.resync(cause);
      if (cause !== 'anti-entropy' || applied > 0) log.log(`caught up (${cause}): ${applied} new`);
    },
    onNotBefore: (notBeforeMs, cause) => {
      metrics.notBefore(cause, notBeforeMs);
      const at = new Date(notBeforeMs).toISOString();
      // Every data set has one from its creation; only a rise seen later means lost data.
      if (cause === 'startup') log.log(`store-wide not-before ${at}`);
      else if (cause === 'store') {
        log.warn(`the store lost data: every token issued up to ${at} is rejected`);
      } else {
        log.warn(
          `could not write back every revocation a failover lost (cache evicted some): ` +
            `every token issued up to ${at} is rejected`,
        );
      }
    },
    onSyncError: (error) => {
      // Rate-limits a log line, decides nothing: real time, so a test's frozen clock cannot mute it.
      const now = Date.now();
      if (!hydrated || now - lastErrorMs < 10_000) return;
      lastErrorMs = now;
      log.warn(`sync failed: ${error instanceof Error ? error.message : String(error)}`);
    },
  };
}

function coreProviders(wiring: RevocationModuleWiring): Provider[] {
  const providers: Provider[] = [
    {
      provide: REVOCATION_CLOCK,
      inject: [REVOCATION_OPTIONS],
      useFactory: (o: ResolvedRevocationOptions) => o.clock,
    },
    {
      provide: REVOCATION_REDIS,
      inject: [REVOCATION_OPTIONS],
      useFactory: (o: ResolvedRevocationOptions) =>
        createCommandClient(o.redisTopology, `rescind-${o.instanceId}`, {}, new Logger('Redis')),
    },
    {
      provide: RedisKeys,
      inject: [REVOCATION_OPTIONS],
      useFactory: (o: ResolvedRevocationOptions) => new RedisKeys(o.keyPrefix),
    },
    {
      provide: RevocationStore,
      inject: [REVOCATION_REDIS, RedisKeys, REVOCATION_OPTIONS, REVOCATION_CLOCK],
      useFactory: (
        redis: RedisClient,
        keys: RedisKeys,
        o: ResolvedRevocationOptions,
        clock: Clock,
      ) =>
        new RevocationStore(redis, keys, {
          clockSkewMs: o.clockSkewMs,
          clock,
          ...(o.region === undefined ? {} : { region: o.region }),
        }),
    },
    {
      provide: SessionStore,
      inject: [REVOCATION_REDIS, RedisKeys, REVOCATION_OPTIONS, REVOCATION_CLOCK],
      useFactory: (
        redis: RedisClient,
        keys: RedisKeys,
        o: ResolvedRevocationOptions,
        clock: Clock,
      ) =>
        new SessionStore(redis, keys, {
          clockSkewMs: o.clockSkewMs,
          clock,
          ...(o.region === undefined ? {} : { region: o.region }),
        }),
    },
    {
      provide: RevocationCache,
      inject: [REVOCATION_OPTIONS],
      useFactory: (o: ResolvedRevocationOptions) =>
        new RevocationCache({ maxEntries: o.cacheMaxEntries }),
    },
    { provide: RESCIND_METRICS_REGISTRY, useValue: wiring.registry ?? new Registry() },
    {
      provide: RevocationMetrics,
      inject: [RESCIND_METRICS_REGISTRY, RevocationCache, HttpAdapterHost],
      useFactory: (registry: Registry, cache: RevocationCache) => {
        const holder: { sync?: RevocationSynchronizer } = {};
        const metrics = new RevocationMetrics(registry, {
          cacheEntries: () => cache.size,
          cacheEvictions: () => cache.evictions,
          inSync: () => holder.sync?.isReady() ?? false,
        });
        return Object.assign(metrics, { holder });
      },
    },
    // Filled in by RevocationPresence: the synchroniser is built before it, and needs its hook.
    { provide: PRESENCE_SIGNAL, useFactory: (): PresenceSignal => ({ notify: () => undefined }) },
    {
      provide: RevocationSynchronizer,
      inject: [
        RevocationCache,
        RevocationStore,
        RevocationMetrics,
        REVOCATION_OPTIONS,
        REVOCATION_CLOCK,
        PRESENCE_SIGNAL,
      ],
      useFactory: (
        cache: RevocationCache,
        store: RevocationStore,
        metrics: RevocationMetrics & { holder: { sync?: RevocationSynchronizer } },
        o: ResolvedRevocationOptions,
        clock: Clock,
        presence: PresenceSignal,
      ) => {
        const sync = new RevocationSynchronizer(cache, store, {
          maxStalenessMs: o.maxStalenessMs,
          clockSkewMs: o.clockSkewMs,
          clock,
          observer: { ...syncLogger(metrics), onPosition: () => presence.notify() },
        });
        metrics.holder.sync = sync;
        return sync;
      },
    },
    {
      provide: RevocationEventsServer,
      inject: [REVOCATION_OPTIONS, RedisKeys, RevocationSynchronizer],
      useFactory: (o: ResolvedRevocationOptions, keys: RedisKeys, sync: RevocationSynchronizer) =>
        new RevocationEventsServer(
          {
            topology: o.redisTopology,
            connectionName: `rescind-sub-${o.instanceId}`,
            channel: keys.channel,
          },
          sync,
        ),
    },
    StoreRevocationLookup,
    { provide: RevocationChecker, useClass: wiring.checker ?? LocalRevocationChecker },
    TokenService,
    RevocationService,
    SessionService,
    BackChannelLogoutService,
    RevocationGuard,
    RevocationHealth,
    RevocationPresence,
    RevocationConnectCheck,
    RevocationSyncService,
    SecurityEventReceiver,
  ];
  if (wiring.globalGuard !== false)
    providers.push({ provide: APP_GUARD, useExisting: RevocationGuard });
  if (wiring.exceptionFilter !== false) {
    providers.push({
      provide: APP_FILTER,
      inject: [HttpAdapterHost],
      useFactory: (host: HttpAdapterHost) => new RescindExceptionFilter(host, wiring.errorAnswers),
    });
  }
  return providers;
}

const EXPORTS = [
  REVOCATION_OPTIONS,
  REVOCATION_REDIS,
  REVOCATION_CLOCK,
  RESCIND_METRICS_REGISTRY,
  RedisKeys,
  RevocationStore,
  RevocationCache,
  RevocationSynchronizer,
  RevocationMetrics,
  RevocationEventsServer,
  RevocationChecker,
  StoreRevocationLookup,
  TokenService,
  RevocationService,
  SessionStore,
  SessionService,
  BackChannelLogoutService,
  RevocationGuard,
  RevocationHealth,
  RevocationPresence,
  SecurityEventReceiver,
];

/**
 * Instant, lossless JWT revocation for NestJS: a guard that checks an in-memory cache kept in
 * sync with Redis. After creating the app, call {@link RevocationModule.connect} so that the
 * replica receives revocation events.
 */
@Global()
@Module({})
export class RevocationModule {
  /** Configures the module with static options. */
  static forRoot(
    options: RevocationModuleOptions,
    wiring: RevocationModuleWiring = {},
  ): DynamicModule {
    return {
      module: RevocationModule,
      providers: [
        {
          provide: REVOCATION_OPTIONS,
          useValue: resolveRevocationOptions(options, defaultInstanceId()),
        },
        ...coreProviders(wiring),
      ],
      controllers: [RevocationEventsController],
      exports: EXPORTS,
    };
  }

  /** Configures the module from a factory, e.g. one reading a config service. */
  static forRootAsync(options: RevocationModuleAsyncOptions): DynamicModule {
    return {
      module: RevocationModule,
      imports: options.imports ?? [],
      providers: [
        {
          provide: REVOCATION_OPTIONS,
          inject: (options.inject ?? []) as never[],
          useFactory: async (...args: never[]) =>
            resolveRevocationOptions(await options.useFactory(...args), defaultInstanceId()),
        },
        ...coreProviders(options),
      ],
      controllers: [RevocationEventsController],
      exports: EXPORTS,
    };
  }

  /**
   * Makes `app` a hybrid application that receives revocation events over Redis pub/sub, through
   * a custom transport of `@nestjs/microservices`, and starts it. Call before `app.listen()`.
   */
  static async connect(app: INestApplication): Promise<void> {
    app.connectMicroservice(
      { strategy: app.get(RevocationEventsServer) },
      { inheritAppConfig: false },
    );
    await app.startAllMicroservices();
  }
}
