import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { REVOCATION_OPTIONS } from './revocation.constants';
import { RevocationEventsServer } from './revocation-events.server';
import { type ResolvedRevocationOptions } from './revocation-module-options';

/** What readiness says while `RevocationModule.connect(app)` was not called. */
export const NOT_CONNECTED_REASON = 'pub/sub not connected: call RevocationModule.connect(app)';

/**
 * How long after the HTTP server starts listening `connect()` may still come: the documented
 * order is `connect()` then `listen()`, but one called right after `listen()` works as well.
 */
export const CONNECT_GRACE_MS = 1000;

/**
 * Warns, once, when the application listens without `RevocationModule.connect(app)`: it then
 * runs, but revocations reach it only through the anti-entropy polling (docs/design.md, "Pub/sub
 * is at-most-once"), every `syncIntervalMs` instead of within milliseconds. An application that
 * never listens (a worker, a test module) is not checked.
 */
@Injectable()
export class RevocationConnectCheck implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('RevocationModule');
  private timer: NodeJS.Timeout | undefined;
  private resolveChecked: () => void = () => undefined;
  /** Settles once the check ran (tests await it rather than sleeping). */
  readonly checked = new Promise<void>((resolve) => (this.resolveChecked = resolve));

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly events: RevocationEventsServer,
    @Inject(REVOCATION_OPTIONS) private readonly options: ResolvedRevocationOptions,
  ) {}

  onApplicationBootstrap(): void {
    const server: unknown = this.adapterHost.httpAdapter?.getHttpServer();
    if (typeof (server as { once?: unknown } | undefined)?.once !== 'function') return;
    (server as NodeJS.EventEmitter).once('listening', () => {
      this.timer = setTimeout(() => this.check(), CONNECT_GRACE_MS);
      this.timer.unref();
    });
  }

  onApplicationShutdown(): void {
    clearTimeout(this.timer);
    this.resolveChecked();
  }

  private check(): void {
    if (!this.events.connected) {
      this.log.warn(
        'RevocationModule.connect(app) was not called: revocations reach this instance only ' +
          `by polling, about every ${this.options.syncIntervalMs} ms, and it never reports ` +
          'ready; call it before app.listen()',
      );
    }
    this.resolveChecked();
  }
}
