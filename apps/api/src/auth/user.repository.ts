import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { StoreUnavailableError } from '@rescind/revocation-core';
import { type RedisClient } from '@rescind/revocation-redis';
import { REVOCATION_REDIS } from '@rescind/revocation-nest';
import { ApiKeys } from './api-keys';
import { type PasswordHash } from './password-hasher';

/** A registered user. */
export interface User extends PasswordHash {
  readonly id: string;
  readonly username: string;
}

/** Users in Redis, one JSON value per lower-cased username (usernames are case-insensitive). */
@Injectable()
export class UserRepository {
  constructor(
    @Inject(REVOCATION_REDIS) private readonly redis: RedisClient,
    private readonly keys: ApiKeys,
  ) {}

  /** @returns the new user, or `null` when the username is taken */
  async create(username: string, password: PasswordHash): Promise<User | null> {
    const user: User = { id: randomUUID(), username, ...password };
    const created = await this.call(() =>
      this.redis.set(this.keys.user(username.toLowerCase()), JSON.stringify(user), 'NX'),
    );
    return created === 'OK' ? user : null;
  }

  /** The user registered under `username`, if any. */
  async findByUsername(username: string): Promise<User | undefined> {
    const raw = await this.call(() => this.redis.get(this.keys.user(username.toLowerCase())));
    return raw === null ? undefined : (JSON.parse(raw) as User);
  }

  private async call<T>(command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (error) {
      throw new StoreUnavailableError(error);
    }
  }
}
