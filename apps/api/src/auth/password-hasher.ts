import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config';

/** A stored password hash. */
export interface PasswordHash {
  readonly salt: string;
  readonly hash: string;
  /** scrypt N used, so that the cost can be raised later. */
  readonly cost: number;
}

const KEY_LENGTH = 32;

function derive(password: string, salt: Buffer, cost: number): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(
      password,
      salt,
      KEY_LENGTH,
      { N: cost, r: 8, p: 1, maxmem: 256 * cost * 8 + 32 * 1024 * 1024 },
      (error, key) => (error ? reject(error) : resolve(key)),
    ),
  );
}

/** Password hashing with `node:crypto` scrypt. */
@Injectable()
export class PasswordHasher {
  private readonly cost: number;
  private readonly dummy: Promise<PasswordHash>;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.cost = config.passwordHashCost;
    this.dummy = this.hash(randomBytes(16).toString('hex'));
  }

  /** Hashes with a fresh 16-byte salt. */
  async hash(password: string): Promise<PasswordHash> {
    const salt = randomBytes(16);
    const key = await derive(password, salt, this.cost);
    return { salt: salt.toString('base64'), hash: key.toString('base64'), cost: this.cost };
  }

  /** Constant-time check; with no stored hash it still spends the same work (no user probing). */
  async verify(password: string, stored: PasswordHash | undefined): Promise<boolean> {
    const reference = stored ?? (await this.dummy);
    const key = await derive(password, Buffer.from(reference.salt, 'base64'), reference.cost);
    const expected = Buffer.from(reference.hash, 'base64');
    return stored !== undefined && key.length === expected.length && timingSafeEqual(key, expected);
  }
}
