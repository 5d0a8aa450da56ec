import { type RevocationKind } from '@rescind/revocation-core';

/** What an index member (and a record key) of each kind starts with. */
const MEMBER_PREFIX: Readonly<Record<RevocationKind, string>> = {
  token: 't:',
  user: 'u:',
  session: 's:',
};

/**
 * Every Redis key, channel, queue and job name of the revocation store, derived from `KEY_PREFIX`
 * in this one place so that deployments and tests can share a Redis. The prefix is validated
 * here; an application keeping its own data next to the store builds its keys from
 * {@link prefix}.
 */
export class RedisKeys {
  /** Sorted set of live revocations (`t:<jti>`, `u:<sub>`, `s:<sid>`), scored by expiry in ms. */
  readonly index: string;
  /** Stream of revocation events, the ordered log replicas catch up from. */
  readonly log: string;
  /** Gap-free counter of logged events. */
  readonly seq: string;
  /** Identity of this data set; a store that lost its data comes back without it. */
  readonly epoch: string;
  /** Store-wide not-before (ms): tokens issued at or before it are revoked; created with the epoch. */
  readonly notBefore: string;
  /** Pub/sub channel on which revocation events fan out. */
  readonly channel: string;
  /**
   * Sorted set of the instances that published their status, scored by when it expires (Redis
   * time, ms): where the fleet is listed from, without `SCAN` (docs/design.md, "Fleet presence").
   */
  readonly presenceIndex: string;
  /** BullMQ queue of maintenance jobs (BullMQ adds `prefix`). */
  readonly maintenanceQueue = 'maintenance';
  /** The scheduled job that tidies expired revocations. */
  readonly tidyJob = 'tidy';

  constructor(readonly prefix: string) {
    if (!/^[A-Za-z0-9_.:{}-]{1,64}$/.test(prefix)) {
      throw new RangeError(`KEY_PREFIX must be 1-64 of [A-Za-z0-9_.:{}-], got "${prefix}"`);
    }
    this.index = `${prefix}:rev:index`;
    this.log = `${prefix}:rev:log`;
    this.seq = `${prefix}:rev:seq`;
    this.epoch = `${prefix}:rev:epoch`;
    this.notBefore = `${prefix}:rev:not-before`;
    this.channel = `${prefix}:rev:events`;
    this.presenceIndex = `${prefix}:presence:index`;
  }

  /** One replica's status (JSON), expiring unless the replica writes it again. */
  presence(instance: string): string {
    return `${this.presenceStem()}${instance}`;
  }

  /** What every {@link presence} key starts with, for the script that lists them. */
  presenceStem(): string {
    return `${this.prefix}:presence:r:`;
  }

  /**
   * Hash of how far this region's bridge has applied a peer region's log: the peer's `epoch`,
   * `seq` and `logId`, and the `localEpoch` of this store it was written in (docs/design.md,
   * "Several regions").
   */
  bridgePosition(peer: string): string {
    return `${this.prefix}:region:bridge:${peer}`;
  }

  /** Member of {@link index} for a revocation. */
  member(kind: RevocationKind, id: string): string {
    return MEMBER_PREFIX[kind] + id;
  }

  /** Record of one live revocation, expiring with it. */
  record(kind: RevocationKind, id: string): string {
    return this.recordOfMember(this.member(kind, id));
  }

  /** Record of the revocation named by a member of {@link index}. */
  recordOfMember(member: string): string {
    return `${this.prefix}:rev:${member}`;
  }

  /**
   * Marks that one message (a logout token's or a security event's `jti`) was seen, so that a
   * replay is refused on every replica (docs/design.md, "External issuers"). `scope` names the
   * sender, `digest` is the SHA-256 of its id, so the key's length is bounded.
   */
  seen(scope: string, digest: string): string {
    return `${this.prefix}:seen:${scope}:${digest}`;
  }

  // Sessions (docs/design.md, "Sessions"). Every key starts with the prefix, so that a Redis
  // Cluster prefix's hash tag puts them in the revocation keys' slot: a script that ends a
  // session also records its revocation.

  /** Hash of one session: its user, times, client, generation and revoked mark. */
  session(sid: string): string {
    return `${this.sessionStems().session}${sid}`;
  }

  /** Sorted set of the digests of every refresh token issued in a session, scored by expiry. */
  sessionRefreshTokens(sid: string): string {
    return `${this.sessionStems().refreshTokens}${sid}`;
  }

  /** Record of one refresh token by its SHA-256 digest: its session, user, generation, expiry. */
  refreshToken(digest: string): string {
    return `${this.sessionStems().refreshToken}${digest}`;
  }

  /** Sorted set of a user's sessions (`sid`), scored by expiry. */
  sessionsOf(sub: string): string {
    return `${this.sessionStems().sessionsOf}${sub}`;
  }

  /**
   * Sorted set of every session (`<sid><sub>`, the `sid` being 22 characters), scored by expiry,
   * or by the instant it was ended: what the tidy job works through.
   */
  sessionExpiries(): string {
    return `${this.prefix}:sess:expiry`;
  }

  /**
   * The stems the session keys are made of, for scripts that derive a key from a member they
   * read (a user's sessions, the tidy job's work list).
   */
  sessionStems(): SessionKeyStems {
    return {
      session: `${this.prefix}:sess:s:`,
      refreshTokens: `${this.prefix}:sess:r:`,
      refreshToken: `${this.prefix}:sess:rt:`,
      sessionsOf: `${this.prefix}:sess:u:`,
    };
  }
}

/** The beginnings of the session keys; each key is its stem followed by an id. */
export interface SessionKeyStems {
  /** + `sid`: {@link RedisKeys.session}. */
  readonly session: string;
  /** + `sid`: {@link RedisKeys.sessionRefreshTokens}. */
  readonly refreshTokens: string;
  /** + digest: {@link RedisKeys.refreshToken}. */
  readonly refreshToken: string;
  /** + `sub`: {@link RedisKeys.sessionsOf}. */
  readonly sessionsOf: string;
}
