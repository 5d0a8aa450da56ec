import { Injectable, Logger } from '@nestjs/common';
import { type IssuedToken, TokenService } from '@rescind/revocation-nest';
import { BadCredentialsError, UsernameTakenError } from './auth.errors';
import { type Credentials } from './credentials';
import { LoginThrottle, RegisterThrottle } from './login-throttle';
import { PasswordHasher } from './password-hasher';
import { UserRepository, type UserRecord } from './user.repository';

/** Registration and login; revocation itself is the library's job. */
@Injectable()
export class AuthService {
  private readonly logger = new Logger(AuthService.name);

  constructor(
    private readonly users: UserRepository,
    private readonly hasher: PasswordHasher,
    private readonly tokens: TokenService,
    private readonly throttle: LoginThrottle,
    private readonly registrations: RegisterThrottle,
  ) {}

  /**
   * Creates an account.
   * @throws UsernameTakenError, or TooManyRegistrationsError when `ip` registered too often
   */
  async register(
    { username, password }: Credentials,
    ip: string,
  ): Promise<{ id: string; username: string }> {
    // Counted before the password is hashed: the hash is what an address could make us spend.
    await this.registrations.take(ip);
    const user = await this.users.create(username, await this.hasher.hash(password));
    if (user === null) throw new UsernameTakenError();
    return { id: user.id, username: user.username };
  }

  /**
   * Checks credentials and issues an access token.
   * @throws BadCredentialsError, or TooManyAttemptsError after repeated failures
   */
  async login({ username, password }: Credentials, ip: string): Promise<IssuedToken> {
    // Counted as a failure before the password is checked, so that concurrent guesses cannot all
    // pass the limit; given back only once the password proved right.
    const attempt = await this.throttle.begin(username, ip);
    const record = await this.users.findRecord(username);
    if (!(await this.hasher.verify(password, record?.user)) || record === undefined) {
      throw new BadCredentialsError();
    }
    await attempt.succeeded();
    await this.upgradeHash(record, password);
    return this.tokens.issue(record.user.id, { username: record.user.username });
  }

  /**
   * Re-hashes a stored hash weaker than the current policy (scrypt, or Argon2 with less memory),
   * now that the password is known to be right. Best effort: the login stands whatever happens.
   */
  private async upgradeHash(record: UserRecord, password: string): Promise<void> {
    if (!this.hasher.needsRehash(record.user)) return;
    try {
      const replaced = await this.users.replacePasswordHash(
        record,
        await this.hasher.hash(password),
      );
      // Lost to a concurrent change, e.g. the same user's other login upgrading it first.
      if (!replaced) this.logger.debug(`password hash of user ${record.user.id} changed meanwhile`);
    } catch (error) {
      this.logger.warn(
        `password hash of user ${record.user.id} not upgraded: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
}
