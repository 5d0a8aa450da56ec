import { Injectable } from '@nestjs/common';
import { type IssuedToken, TokenService } from '@rescind/revocation-nest';
import { BadCredentialsError, UsernameTakenError } from './auth.errors';
import { type Credentials } from './credentials';
import { LoginThrottle } from './login-throttle';
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
  ) {}

  /** Creates an account. @throws UsernameTakenError */
  async register({ username, password }: Credentials): Promise<{ id: string; username: string }> {
    const user = await this.users.create(username, await this.hasher.hash(password));
    if (user === null) throw new UsernameTakenError();
    return { id: user.id, username: user.username };
  }

  /**
   * Checks credentials and issues an access token.
   * @throws BadCredentialsError, or TooManyAttemptsError after repeated failures
   */
  async login({ username, password }: Credentials, ip: string): Promise<IssuedToken> {
    await this.throttle.assertAllowed(username, ip);
    const user = await this.users.findByUsername(username);
    if (!(await this.hasher.verify(password, user)) || user === undefined) {
      await this.throttle.recordFailure(username, ip);
      throw new BadCredentialsError();
    }
    return this.tokens.issue(user.id, { username: user.username });
  }
}
