import { Injectable } from '@nestjs/common';
import { type IssuedToken, TokenService } from '@rescind/revocation-nest';
import { BadCredentialsError, UsernameTakenError } from './auth.errors';
import { type Credentials } from './credentials';
import { LoginThrottle, RegisterThrottle } from './login-throttle';
import { PasswordHasher } from './password-hasher';
import { UserRepository } from './user.repository';

/** Registration and login; revocation itself is the library's job. */
@Injectable()
export class AuthService {
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
    const user = await this.users.findByUsername(username);
    if (!(await this.hasher.verify(password, user)) || user === undefined) {
      throw new BadCredentialsError();
    }
    await attempt.succeeded();
    return this.tokens.issue(user.id, { username: user.username });
  }
}
