import { Injectable, Logger } from '@nestjs/common';
import { type IssuedSession, SessionService } from '@rescind/revocation-nest';
import { type ClientContext } from '../sessions/session-context';
import { BadCredentialsError, LoginOverloadedError, UsernameTakenError } from './auth.errors';
import { type Credentials } from './credentials';
import { LoginThrottle, RegisterThrottle } from './login-throttle';
import { PasswordHasher } from './password-hasher';
import { UserRepository, type UserRecord } from './user.repository';

/** Registration, login and refresh; sessions and revocation themselves are the library's job. */
@Injectable()
export class AuthService {
  private readonly logger = new Logger(AuthService.name);

  constructor(
    private readonly users: UserRepository,
    private readonly hasher: PasswordHasher,
    private readonly sessions: SessionService,
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
    this.hasher.ensureRoom('register');
    // Counted before the password is hashed: the hash is what an address could make us spend.
    await this.registrations.take(ip);
    let hashed;
    try {
      hashed = await this.hasher.hash(password, 'register');
    } catch (error) {
      // Refused by the login bulkhead before any hashing: the registration does not count.
      if (error instanceof LoginOverloadedError) await this.registrations.giveBack(ip);
      throw error;
    }
    const user = await this.users.create(username, hashed);
    if (user === null) throw new UsernameTakenError();
    return { id: user.id, username: user.username };
  }

  /**
   * Checks credentials and starts a session: an access token and a refresh token.
   * @throws BadCredentialsError, or TooManyAttemptsError after repeated failures
   */
  async login(
    { username, password }: Credentials,
    ip: string,
    context: ClientContext = {},
  ): Promise<IssuedSession> {
    // Every hashing slot busy: refused before the throttle and the store are asked anything.
    this.hasher.ensureRoom('login');
    // Counted as a failure before the password is checked, so that concurrent guesses cannot all
    // pass the limit; given back only once the password proved right.
    const attempt = await this.throttle.begin(username, ip);
    const record = await this.users.findRecord(username);
    let valid: boolean;
    try {
      valid = await this.hasher.verify(password, record?.user);
    } catch (error) {
      // Refused by the login bulkhead: the password was never checked, so no failure either.
      if (error instanceof LoginOverloadedError) await attempt.unchecked();
      throw error;
    }
    if (!valid || record === undefined) throw new BadCredentialsError();
    await attempt.succeeded();
    await this.upgradeHash(record, password);
    // Refreshes name only the user's id: they find the username through this index.
    await this.users.rememberId(record.user);
    return this.sessions.start(record.user.id, { username: record.user.username }, context);
  }

  /**
   * Rotates a refresh token: a new pair for the same session, whose access token carries the
   * user's current claims.
   * @throws InvalidGrantError (unknown, expired, revoked, or reused: the session then ends)
   */
  refresh(refreshToken: string, context: ClientContext = {}): Promise<IssuedSession> {
    return this.sessions.refresh(refreshToken, (sub) => this.claimsOf(sub), context);
  }

  /** The claims an access token of user `sub` carries besides the registered ones. */
  async claimsOf(sub: string): Promise<Record<string, unknown>> {
    const username = await this.users.usernameOf(sub);
    return username === undefined ? {} : { username };
  }

  /**
   * Re-hashes a stored hash weaker than the current policy (scrypt, or Argon2 with less memory),
   * now that the password is known to be right. Best effort: the login stands whatever happens,
   * and a rehash the login bulkhead refuses is left for a later login.
   */
  private async upgradeHash(record: UserRecord, password: string): Promise<void> {
    if (!this.hasher.needsRehash(record.user)) return;
    try {
      const replaced = await this.users.replacePasswordHash(
        record,
        await this.hasher.hash(password, 'rehash'),
      );
      // Lost to a concurrent change, e.g. the same user's other login upgrading it first.
      if (!replaced) this.logger.debug(`password hash of user ${record.user.id} changed meanwhile`);
    } catch (error) {
      if (error instanceof LoginOverloadedError) return;
      this.logger.warn(
        `password hash of user ${record.user.id} not upgraded: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
}
