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
}
