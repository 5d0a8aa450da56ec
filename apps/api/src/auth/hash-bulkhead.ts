import { Inject, Injectable } from '@nestjs/common';
import { RESCIND_METRICS_REGISTRY } from '@rescind/revocation-nest';
import { Counter, type Registry } from 'prom-client';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { LoginOverloadedError } from './auth.errors';
import { Bulkhead, BulkheadRefusedError } from './bulkhead';

/** Hashes waiting per hashing slot, beyond which a login is refused at once. */
export const HASH_QUEUE_PER_SLOT = 8;

/**
 * Longest a login waits for a hashing slot before it is refused: short enough that a refused
 * client hears so quickly, long enough to absorb a burst of a few hashes per slot.
 */
export const HASH_MAX_WAIT_MS = 250;

/** What a refused login is told to wait before trying again. */
export const HASH_RETRY_AFTER_SECONDS = 1;

/** What a hash was for: `login` and `register` answer 503; a `rehash` is left for a later login. */
export type HashOperation = 'login' | 'register' | 'rehash';

/**
 * The login bulkhead: at most `LOGIN_MAX_CONCURRENT_HASHES` password hashes in flight in this
 * replica, a queue of {@link HASH_QUEUE_PER_SLOT} per slot waiting at most
 * {@link HASH_MAX_WAIT_MS}, and {@link LoginOverloadedError} (503 with `Retry-After`) beyond,
 * counted in `rescind_login_shed_total`. Argon2id is CPU-bound by design: unbounded, a flood of
 * logins takes every core and every read waits behind it (docs/design.md, "Login bulkhead").
 */
@Injectable()
export class HashBulkhead {
  private readonly bulkhead: Bulkhead;
  private readonly shed: Counter<'operation'>;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(RESCIND_METRICS_REGISTRY) registry: Registry,
  ) {
    const maxConcurrent = config.loginMaxConcurrentHashes;
    this.bulkhead = new Bulkhead({
      maxConcurrent,
      maxQueue: HASH_QUEUE_PER_SLOT * maxConcurrent,
      maxWaitMs: HASH_MAX_WAIT_MS,
    });
    const name = 'rescind_login_shed_total';
    this.shed =
      (registry.getSingleMetric(name) as Counter<'operation'> | undefined) ??
      new Counter({
        name,
        help: 'Password hashes refused by the login bulkhead, by operation: login and register answered 503 with Retry-After; rehash, a weaker stored hash left for a later login.',
        labelNames: ['operation'],
        registers: [registry],
      });
    for (const operation of ['login', 'register', 'rehash'] as const)
      this.shed.inc({ operation }, 0);
  }

  /** Hashes in flight now. */
  get running(): number {
    return this.bulkhead.running;
  }

  /**
   * Refuses now, before any other work of the request (throttles, store reads), when a hash
   * submitted now would be refused: a flood of logins is then answered for almost nothing.
   * @throws LoginOverloadedError
   */
  ensureRoom(operation: HashOperation): void {
    if (this.bulkhead.refusalNow() !== undefined) throw this.refuse(operation);
  }

  /**
   * Runs one password hash (or verification) within the bound.
   * @throws LoginOverloadedError when the bulkhead refused it; `hash` was then not called
   */
  async run<T>(operation: HashOperation, hash: () => Promise<T>): Promise<T> {
    try {
      return await this.bulkhead.run(hash);
    } catch (error) {
      if (!(error instanceof BulkheadRefusedError)) throw error;
      throw this.refuse(operation);
    }
  }

  private refuse(operation: HashOperation): LoginOverloadedError {
    this.shed.inc({ operation });
    return new LoginOverloadedError(HASH_RETRY_AFTER_SECONDS);
  }
}
