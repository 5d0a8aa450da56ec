import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { RevocationSynchronizer } from '@rescind/revocation-core';
import { closeRedisClient, type RedisClient } from '@rescind/revocation-redis';
import { REVOCATION_OPTIONS, REVOCATION_REDIS } from './revocation.constants';
import { type ResolvedRevocationOptions } from './revocation-module-options';

/** Owns the command connection and the anti-entropy timer of this replica. */
@Injectable()
export class RevocationSyncService implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly sync: RevocationSynchronizer,
    @Inject(REVOCATION_REDIS) private readonly redis: RedisClient,
    @Inject(REVOCATION_OPTIONS) private readonly options: ResolvedRevocationOptions,
  ) {}

  onApplicationBootstrap(): void {
    // Tick from the first connection on; until then the replica is simply not hydrated.
    const start = (): void => {
      void this.sync.tick();
      this.timer = setInterval(() => void this.sync.tick(), this.options.syncIntervalMs);
      this.timer.unref();
    };
    // A slow start-up (the external issuers' keys are fetched first) may find it connected.
    if (this.redis.status === 'ready') return start();
    this.redis.once('ready', start);
    if (this.redis.status !== 'wait') return; // already connecting
    // The client logs the failure itself, once per outage (createCommandClient's logger).
    this.redis.connect().catch(() => undefined);
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    this.sync.stop();
    await closeRedisClient(this.redis);
  }
}
