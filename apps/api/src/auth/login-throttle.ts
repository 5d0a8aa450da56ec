import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { REVOCATION_REDIS } from '@rescind/revocation-nest';
import { type RedisClient } from '@rescind/revocation-redis';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { ApiKeys } from './api-keys';
import { TooManyAttemptsError, TooManyRegistrationsError } from './auth.errors';
import { BackoffLimiter } from './backoff-limiter';

/** Limiter names, the middle part of their Redis keys. */
export const LOGIN_BY_USERNAME_AND_ADDRESS = 'login-user-ip';
export const LOGIN_BY_ADDRESS = 'login-ip';
export const REGISTER_BY_ADDRESS = 'register-ip';

/**
 * The address a throttle counts: an IPv4-mapped IPv6 address (`::ffff:1.2.3.4`, what a dual-stack
 * socket reports) is the IPv4 address it carries, so that one client has one key.
 */
export function clientAddress(ip: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip);
  return mapped?.[1] ?? ip;
}

function tracker(...parts: string[]): string {
  // Hashed: no username or address is stored in clear, and no user input reaches a key (so no
  // `{` can move a key out of the prefix's Redis Cluster hash slot).
  return createHash('sha256').update(parts.join('\n')).digest('base64url');
}

/** A login attempt that passed the throttle: its point is taken until it is known to succeed. */
export interface LoginAttempt {
  /** The password was right: the attempt does not count, and the pair's failures are forgotten. */
  succeeded(): Promise<void>;
  /** The password was never checked (the login bulkhead refused it): the attempt does not count. */
  unchecked(): Promise<void>;
}

/**
 * Brute-force protection for `POST /auth/login`, shared by every replica through Redis. Failures
 * are counted per (username, client address) pair and per client address, never per username
 * alone: an attacker elsewhere cannot keep a user out of their own account. Each attempt takes its
 * points *before* the password is checked, atomically with the limit check, so that N concurrent
 * wrong guesses get at most the limit of 401s and 429 (with `Retry-After`) for the rest; a
 * successful attempt gives its points back. Blocks double on each repeat (see docs/design.md,
 * "Throttles").
 */
@Injectable()
export class LoginThrottle {
  private readonly byPair: BackoffLimiter;
  private readonly byAddress: BackoffLimiter;

  constructor(
    @Inject(REVOCATION_REDIS) redis: RedisClient,
    keys: ApiKeys,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    const windowMs = config.loginFailureWindowMs;
    this.byPair = new BackoffLimiter(redis, {
      keyPrefix: keys.throttle(LOGIN_BY_USERNAME_AND_ADDRESS),
      points: config.loginFailureLimit,
      windowMs,
    });
    this.byAddress = new BackoffLimiter(redis, {
      keyPrefix: keys.throttle(LOGIN_BY_ADDRESS),
      points: config.loginIpFailureLimit,
      windowMs,
    });
  }

  /**
   * Counts the attempt as a failure until {@link LoginAttempt.succeeded} says otherwise.
   * @throws TooManyAttemptsError while the pair or the address is over its limit or blocked
   */
  async begin(username: string, ip: string): Promise<LoginAttempt> {
    const address = clientAddress(ip);
    const pair = tracker(username.toLowerCase(), address);
    const addressKey = tracker(address);
    const [pairWait, addressWait] = await Promise.all([
      this.byPair.take(pair),
      this.byAddress.take(addressKey),
    ]);
    if (pairWait > 0 || addressWait > 0) {
      // A refused attempt is not checked, so it is no failure: return what the other took.
      await Promise.all([
        pairWait === 0 ? this.byPair.giveBack(pair) : undefined,
        addressWait === 0 ? this.byAddress.giveBack(addressKey) : undefined,
      ]);
      throw new TooManyAttemptsError(Math.max(pairWait, addressWait));
    }
    return {
      succeeded: async () => {
        await Promise.all([this.byPair.reset(pair), this.byAddress.giveBack(addressKey)]);
      },
      unchecked: async () => {
        await Promise.all([this.byPair.giveBack(pair), this.byAddress.giveBack(addressKey)]);
      },
    };
  }
}

/**
 * `POST /auth/register` per client address: every registration costs a password hash, so each
 * one counts, before the hash, up to `REGISTER_IP_LIMIT` per `LOGIN_FAILURE_WINDOW_MS`.
 */
@Injectable()
export class RegisterThrottle {
  private readonly byAddress: BackoffLimiter;

  constructor(
    @Inject(REVOCATION_REDIS) redis: RedisClient,
    keys: ApiKeys,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.byAddress = new BackoffLimiter(redis, {
      keyPrefix: keys.throttle(REGISTER_BY_ADDRESS),
      points: config.registerIpLimit,
      windowMs: config.loginFailureWindowMs,
      backoff: false,
    });
  }

  /** @throws TooManyRegistrationsError once the address is over its limit in this window */
  async take(ip: string): Promise<void> {
    const wait = await this.byAddress.take(tracker(clientAddress(ip)));
    if (wait > 0) throw new TooManyRegistrationsError(wait);
  }

  /** Returns what {@link take} counted, for a registration that hashed nothing. */
  async giveBack(ip: string): Promise<void> {
    await this.byAddress.giveBack(tracker(clientAddress(ip)));
  }
}
