import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { StoreUnavailableError } from '@rescind/revocation-core';
import { defineLuaCommands, type LuaCommand, type RedisClient } from '@rescind/revocation-redis';
import { REVOCATION_REDIS } from '@rescind/revocation-nest';
import { ApiKeys } from './api-keys';
import { type PasswordHash } from './password-hasher';

/** A registered user. */
export type User = {
  readonly id: string;
  readonly username: string;
} & PasswordHash;

/** A user as read, with the exact value stored: what a compare-and-set expects to find. */
export interface UserRecord {
  readonly user: User;
  readonly stored: string;
}

/** The fields of either password hash format, dropped before the new one is written. */
const HASH_FIELDS = ['passwordHash', 'salt', 'hash', 'cost'] as const;

/**
 * Replaces the value only if it is still the one read. KEYS: user. ARGV: expected, new value.
 * Returns 1 when replaced.
 */
const COMPARE_AND_SET: LuaCommand = {
  name: 'apiUserCompareAndSet',
  numberOfKeys: 1,
  lua: `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
return 1
`,
};

/** Users in Redis, one JSON value per lower-cased username (usernames are case-insensitive). */
@Injectable()
export class UserRepository {
  private readonly run: ReturnType<typeof defineLuaCommands>;

  constructor(
    @Inject(REVOCATION_REDIS) private readonly redis: RedisClient,
    private readonly keys: ApiKeys,
  ) {
    this.run = defineLuaCommands(redis, [COMPARE_AND_SET]);
  }

  /** @returns the new user, or `null` when the username is taken */
  async create(username: string, password: PasswordHash): Promise<User | null> {
    const user: User = { id: randomUUID(), username, ...password };
    const created = await this.call(() =>
      this.redis.set(this.keys.user(username.toLowerCase()), JSON.stringify(user), 'NX'),
    );
    return created === 'OK' ? user : null;
  }

  /**
   * Indexes the user's id to its username (refreshes know only the id). Written at login, before
   * any session of the user exists, so that accounts registered before sessions get it too.
   */
  async rememberId(user: User): Promise<void> {
    await this.call(() => this.redis.set(this.keys.userId(user.id), user.username, 'NX'));
  }

  /** The username of the user with id `id`, once it logged in (see {@link rememberId}). */
  async usernameOf(id: string): Promise<string | undefined> {
    return (await this.call(() => this.redis.get(this.keys.userId(id)))) ?? undefined;
  }

  /** The user registered under `username`, if any. */
  async findByUsername(username: string): Promise<User | undefined> {
    return (await this.findRecord(username))?.user;
  }

  /** The user registered under `username` with its stored value, if any. */
  async findRecord(username: string): Promise<UserRecord | undefined> {
    const stored = await this.call(() => this.redis.get(this.keys.user(username.toLowerCase())));
    return stored === null ? undefined : { user: JSON.parse(stored) as User, stored };
  }

  /**
   * Stores `password` as the user's hash, keeping every other field, atomically and only if the
   * record is still the one read: a concurrent change (a new password, a deletion) wins.
   * @returns whether the record was replaced
   */
  async replacePasswordHash(record: UserRecord, password: PasswordHash): Promise<boolean> {
    const fields: Record<string, unknown> = { ...record.user };
    for (const field of HASH_FIELDS) delete fields[field];
    const replaced = await this.call(() =>
      this.run(
        COMPARE_AND_SET.name,
        [this.keys.user(record.user.username.toLowerCase())],
        [record.stored, JSON.stringify({ ...fields, ...password })],
      ),
    );
    return replaced === 1;
  }

  private async call<T>(command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (error) {
      throw new StoreUnavailableError(error);
    }
  }
}
