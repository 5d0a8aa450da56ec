import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import {
  InjectThrottlerOptions,
  type ThrottlerModuleOptions,
  type ThrottlerOptions,
} from '@nestjs/throttler';
import { TooManyAttemptsError } from './auth.errors';
import { RedisThrottlerStorage } from './redis-throttler.storage';

/** Throttler names, as configured in `ThrottlerModule` (see auth.module.ts). */
export const LOGIN_BY_USERNAME = 'login-username';
export const LOGIN_BY_IP = 'login-ip';

function tracker(value: string): string {
  // Hash so that no username or address is stored in clear.
  return createHash('sha256').update(value).digest('base64url');
}

/**
 * Brute-force protection for `POST /auth/login`: failed attempts are counted per username and
 * per client address, shared by every replica through Redis; once over the limit, attempts are
 * answered 429 with `Retry-After` until the window ends. Successful logins are not counted, so
 * legitimate bursts (a test suite, a fleet of devices) are never throttled.
 */
@Injectable()
export class LoginThrottle {
  private readonly byName: Map<string, ThrottlerOptions>;

  constructor(
    private readonly storage: RedisThrottlerStorage,
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
  ) {
    const throttlers = Array.isArray(options) ? options : options.throttlers;
    this.byName = new Map(throttlers.map((t) => [t.name ?? 'default', t]));
  }

  /** @throws TooManyAttemptsError while the username or the address is blocked */
  async assertAllowed(username: string, ip: string): Promise<void> {
    const waits = await Promise.all([
      this.storage.blockedFor(tracker(username.toLowerCase()), LOGIN_BY_USERNAME),
      this.storage.blockedFor(tracker(ip), LOGIN_BY_IP),
    ]);
    const wait = Math.max(...waits);
    if (wait > 0) throw new TooManyAttemptsError(wait);
  }

  /** Counts one failed attempt against the username and the address. */
  async recordFailure(username: string, ip: string): Promise<void> {
    await Promise.all([
      this.count(LOGIN_BY_USERNAME, tracker(username.toLowerCase())),
      this.count(LOGIN_BY_IP, tracker(ip)),
    ]);
  }

  private async count(name: string, key: string): Promise<void> {
    const options = this.byName.get(name);
    if (options === undefined) return;
    const ttl = Number(options.ttl);
    await this.storage.increment(
      key,
      ttl,
      Number(options.limit),
      Number(options.blockDuration ?? ttl),
      name,
    );
  }
}
