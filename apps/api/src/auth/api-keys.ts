import { Injectable } from '@nestjs/common';
import { RedisKeys } from '@rescind/revocation-redis';

/**
 * The API's own Redis keys (its users, its login throttles), built from the same validated
 * `KEY_PREFIX` as the revocation store's keys and kept out of the store's namespace.
 */
@Injectable()
export class ApiKeys {
  /** The validated prefix the revocation store's keys use too. */
  readonly prefix: string;

  constructor(keys: RedisKeys) {
    this.prefix = keys.prefix;
  }

  /** The `keyPrefix` of a rate limiter: its keys are `<this>:<hashed tracker>`. */
  throttle(limiter: string): string {
    return `${this.prefix}:throttle:${limiter}`;
  }

  /** A user's username, by user id (`UserRepository.rememberId`). */
  userId(id: string): string {
    return `${this.prefix}:user-id:${id}`;
  }

  /** A user account, by normalised username. */
  user(username: string): string {
    return `${this.prefix}:user:${username}`;
  }
}
