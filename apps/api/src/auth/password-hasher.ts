import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { Algorithm, parseOptions, Version } from '@node-rs/argon2';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { HashBulkhead, type HashOperation } from './hash-bulkhead';
import { HashThreads } from './hash-threads';

/** A stored password hash: an Argon2id PHC string (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`). */
export interface Argon2PasswordHash {
  readonly passwordHash: string;
}

/**
 * The scrypt hash stored before Argon2id (r = 8, p = 1, 32-byte key): still verified, so that
 * users registered earlier can log in, and replaced at their next login.
 */
export interface LegacyScryptPasswordHash {
  readonly salt: string;
  readonly hash: string;
  /** scrypt N */
  readonly cost: number;
}

/** A stored password hash, in either format. */
export type PasswordHash = Argon2PasswordHash | LegacyScryptPasswordHash;

/** Argon2id passes: OWASP's figure for m = 19 MiB (docs in the README's configuration table). */
const TIME_COST = 2;
/** One lane: the API serves many logins at once, each on its own libuv thread. */
const PARALLELISM = 1;

const LEGACY_KEY_LENGTH = 32;

function isArgon2(stored: PasswordHash): stored is Argon2PasswordHash {
  return typeof (stored as Partial<Argon2PasswordHash>).passwordHash === 'string';
}

function scryptKey(password: string, salt: Buffer, cost: number): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(
      password,
      salt,
      LEGACY_KEY_LENGTH,
      { N: cost, r: 8, p: 1, maxmem: 256 * cost * 8 + 32 * 1024 * 1024 },
      (error, key) => (error ? reject(error) : resolve(key)),
    ),
  );
}

/** Verifies against a legacy scrypt record; a record with an impossible N never matches. */
async function verifyScrypt(password: string, stored: LegacyScryptPasswordHash): Promise<boolean> {
  const { cost } = stored;
  if (!Number.isSafeInteger(cost) || cost < 2 || cost > 1 << 20 || (cost & (cost - 1)) !== 0) {
    return false;
  }
  const key = await scryptKey(password, Buffer.from(stored.salt, 'base64'), cost);
  const expected = Buffer.from(stored.hash, 'base64');
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/**
 * Password hashing with Argon2id (`@node-rs/argon2`) at `PASSWORD_HASH_COST` KiB, t = 2, p = 1:
 * OWASP's minimum configuration at the default cost. Every hash and every verification passes
 * the login bulkhead ({@link HashBulkhead}) and runs on one of its hashing threads, off the event
 * loop and, on Linux, at a low priority ({@link HashThreads}).
 */
@Injectable()
export class PasswordHasher implements OnModuleDestroy {
  /** Argon2id memory in KiB of new hashes. */
  readonly memoryCost: number;
  private readonly dummy: Promise<Argon2PasswordHash>;
  private readonly threads: HashThreads;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly bulkhead: HashBulkhead,
  ) {
    this.memoryCost = config.passwordHashCost;
    this.threads = new HashThreads(config.loginMaxConcurrentHashes);
    // Once per process, at start-up: outside the bulkhead.
    this.dummy = this.argon2(randomBytes(16).toString('hex'));
    // Awaited by the first login of an unknown user; unobserved until then.
    this.dummy.catch(() => undefined);
  }

  /**
   * Refuses at once when the login bulkhead would refuse a hash now: called before a login or a
   * registration spends anything else (docs/design.md, "Login bulkhead").
   * @throws LoginOverloadedError
   */
  ensureRoom(operation: HashOperation): void {
    this.bulkhead.ensureRoom(operation);
  }

  /**
   * Hashes with a fresh 16-byte salt.
   * @param operation what the hash is for (`rescind_login_shed_total` counts refusals by it)
   * @throws LoginOverloadedError when the bulkhead refused it
   */
  hash(password: string, operation: HashOperation = 'register'): Promise<Argon2PasswordHash> {
    return this.bulkhead.run(operation, () => this.argon2(password));
  }

  /** Stops the hashing threads. */
  async onModuleDestroy(): Promise<void> {
    await this.threads.stop();
  }

  private async argon2(password: string): Promise<Argon2PasswordHash> {
    const passwordHash = await this.threads.hash(password, {
      algorithm: Algorithm.Argon2id,
      version: Version.V0x13,
      memoryCost: this.memoryCost,
      timeCost: TIME_COST,
      parallelism: PARALLELISM,
    });
    return { passwordHash };
  }

  /**
   * Constant-time check (the comparison happens inside the hash libraries); with no stored hash
   * it still spends the work of a current one, so that answers do not tell which users exist.
   * @throws LoginOverloadedError when the bulkhead refused it (known and unknown users alike)
   */
  async verify(password: string, stored: PasswordHash | undefined): Promise<boolean> {
    const reference = stored ?? (await this.dummy);
    const valid = await this.bulkhead.run('login', async () => {
      try {
        return isArgon2(reference)
          ? await this.threads.verify(reference.passwordHash, password)
          : await verifyScrypt(password, reference);
      } catch {
        // An unparseable stored hash matches no password.
        return false;
      }
    });
    return stored !== undefined && valid;
  }

  /**
   * Whether `stored` is weaker than what {@link hash} makes now: scrypt, another Argon2 variant or
   * version, less memory or fewer passes. A stronger hash is kept, so that replicas configured
   * differently during a rollout do not rewrite each other's hashes back and forth.
   */
  needsRehash(stored: PasswordHash): boolean {
    if (!isArgon2(stored)) return true;
    try {
      const options = parseOptions(stored.passwordHash);
      return (
        options.algorithm !== Algorithm.Argon2id ||
        options.version !== Version.V0x13 ||
        options.memoryCost < this.memoryCost ||
        options.timeCost < TIME_COST
      );
    } catch {
      return true;
    }
  }
}
