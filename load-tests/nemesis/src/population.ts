/** A user the generator created, as far as it knows. */
export interface KnownUser {
  readonly username: string;
  readonly password: string;
  /** Learnt from its first token. */
  sub?: string;
  /** False until registered, and again after a login said the account is gone (Redis lost it). */
  registered: boolean;
}

/** A token the generator holds. */
export interface KnownToken {
  readonly token: string;
  readonly jti: string;
  readonly sub: string;
  readonly exp: number;
  readonly user: KnownUser;
  /** When its login returned (history clock): user cut-offs sent later cover it. */
  readonly issuedBy: number;
  /** Its session (every token issued since sessions exist has one). */
  readonly sid?: string;
}

/** A session the generator holds: its current refresh token and those rotated out. */
export interface KnownSession {
  readonly sid: string;
  readonly sub: string;
  readonly user: KnownUser;
  /** The refresh token a refresh presents; replaced by each rotation. */
  refreshToken: string;
  /** Refresh tokens rotated out, the latest last: presenting one is reuse. */
  readonly rotatedOut: string[];
}

/** Tokens kept in each list; older ones are no longer used. */
const LIST_MAX = 300;

/**
 * Every user and token the client lanes share: tokens thought valid, and tokens revoked (or
 * refused, or whose revocation had no answer), which reads keep presenting to catch a replica
 * that accepts them. Shared, so that a token revoked by one lane is read by the others.
 */
export class Population {
  readonly users: KnownUser[] = [];
  private validTokens: KnownToken[] = [];
  private revokedTokens: KnownToken[] = [];
  private liveSessions: KnownSession[] = [];

  constructor(private readonly namePrefix: string) {}

  /** Tokens believed valid. */
  get valid(): readonly KnownToken[] {
    return this.validTokens;
  }

  /** Tokens revoked or refused. */
  get revoked(): readonly KnownToken[] {
    return this.revokedTokens;
  }

  /** Sessions believed live. */
  get sessions(): readonly KnownSession[] {
    return this.liveSessions;
  }

  /** Adds a session a login started. */
  addSession(session: KnownSession): void {
    this.liveSessions.push(session);
    if (this.liveSessions.length > LIST_MAX) this.liveSessions.shift();
  }

  /** A refresh rotated the session's refresh token. */
  rotate(session: KnownSession, refreshToken: string): void {
    session.rotatedOut.push(session.refreshToken);
    if (session.rotatedOut.length > 3) session.rotatedOut.shift();
    session.refreshToken = refreshToken;
  }

  /** The session ended (or is believed to have): its tokens move to the revoked list. */
  endSession(sid: string | undefined): void {
    if (sid === undefined) return;
    this.liveSessions = this.liveSessions.filter((session) => session.sid !== sid);
    for (const token of this.validTokens.filter((held) => held.sid === sid)) this.revoke(token);
  }

  /** The latest valid token of session `sid`, if the lanes hold one. */
  tokenOfSession(sid: string): KnownToken | undefined {
    for (let i = this.validTokens.length - 1; i >= 0; i--) {
      const token = this.validTokens[i] as KnownToken;
      if (token.sid === sid) return token;
    }
    return undefined;
  }

  /** A new, not yet registered user with a name unique to this run. */
  newUser(): KnownUser {
    const user: KnownUser = {
      username: `${this.namePrefix}_${this.users.length + 1}`,
      password: 'correct horse battery staple',
      registered: false,
    };
    this.users.push(user);
    return user;
  }

  /** Users known to be registered. */
  registered(): KnownUser[] {
    return this.users.filter((user) => user.registered);
  }

  /** Users whose account Redis lost: they must register again. */
  lost(): KnownUser[] {
    return this.users.filter((user) => !user.registered && user.sub !== undefined);
  }

  /** Adds a freshly issued token. */
  addToken(token: KnownToken): void {
    token.user.sub = token.sub;
    this.validTokens.push(token);
    if (this.validTokens.length > LIST_MAX) this.validTokens.shift();
  }

  /** Moves a token from the valid to the revoked list (revoked, refused, or maybe revoked). */
  revoke(token: KnownToken): void {
    if (!this.validTokens.includes(token)) return;
    this.validTokens = this.validTokens.filter((held) => held !== token);
    this.revokedTokens.push(token);
    if (this.revokedTokens.length > LIST_MAX) this.revokedTokens.shift();
  }

  /**
   * Moves every valid token of `sub` whose login returned before `sentAt` to the revoked list,
   * and forgets the user's sessions (logout-all ends them).
   */
  cutOff(sub: string, sentAt: number): void {
    this.liveSessions = this.liveSessions.filter((session) => session.sub !== sub);
    for (const token of this.validTokens.filter(
      (held) => held.sub === sub && held.issuedBy < sentAt,
    )) {
      this.revoke(token);
    }
  }

  /** A valid token of `sub`, if the lanes hold one. */
  tokenOf(sub: string): KnownToken | undefined {
    return this.validTokens.find((held) => held.sub === sub);
  }
}
