import { createHash, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import {
  type CheckedClaims,
  type Clock,
  type Milliseconds,
  type LogEntry,
  type Revocation,
  type RevocationEvent,
  type RevocationKind,
  type RevocationSource,
  type StoreHead,
  isRevocationId,
  REVOCATION_DEFAULTS,
  systemClock,
  wholeMilliseconds,
} from '@rescind/revocation-core';
import { EventCodec } from './event-codec';
import { defineLuaCommands, loadLuaCommands } from './redis-commands';
import { type RedisKeys } from './redis-keys';
import { type RedisClient } from './redis-topology';

/**
 * The store's Lua scripts (`commands/*.lua`), read once; they ship next to the compiled code.
 * Registered on a client under these names by {@link RevocationStore}.
 */
export const STORE_COMMANDS = loadLuaCommands(join(__dirname, 'commands'), 'rescind');

/** Who made a revocation and why, kept with it for as long as it lives. */
export interface RevocationAudit {
  /** Free text, e.g. `logout` or `stolen`. */
  readonly reason?: string;
  /** Who asked, e.g. `self` or `admin`. */
  readonly actor?: string;
  /**
   * The region it was made in (its `REGION`), logged and recorded with it so that the bridges
   * between regions apply it once and never back (docs/design.md, "Several regions"). Absent
   * when no region is configured, and in what older builds wrote.
   */
  readonly origin?: string;
}

/** `audit` with `region` as its origin unless it names one already (a bridge's writes do). */
export function withOrigin(audit: RevocationAudit, region: string | undefined): RevocationAudit {
  return region === undefined || audit.origin !== undefined ? audit : { ...audit, origin: region };
}

/**
 * Writes back revocations a replica still holds but the store lost, each stamped now, through
 * `revoke`, the one atomic write path: what the store already covers is skipped, the rest is
 * logged and published like any revocation (docs/revocation-model.md, "Divergence"). Shared by
 * {@link RevocationStore.restore} and the simulator's client, so that both restore alike.
 * @param revoke the store's own write, given the stamped revocation and its audit trail
 */
export async function restoreRevocations(
  revocations: readonly Revocation[],
  clock: Clock,
  revoke: (revocation: Revocation, audit: RevocationAudit) => Promise<unknown>,
): Promise<void> {
  await Promise.all(
    revocations.map((revocation) =>
      revoke({ ...revocation, createdAtMs: clock.now() }, { reason: 'restored', actor: 'replica' }),
    ),
  );
}

/** The standard block of keys and arguments of `includes/recordRevocation.lua`, for one revocation. */
export interface RevokeScriptArguments {
  /** The revocation, in whole milliseconds, as it will be recorded. */
  readonly revocation: Revocation;
  /** The six keys: record, index, log, seq, epoch, not-before. Put them first in KEYS. */
  readonly keys: readonly string[];
  /** The arguments (self-delimiting: a count precedes each run of fields), anywhere in ARGV. */
  readonly args: readonly (string | number)[];
}

/**
 * The keys and arguments with which a Lua script records `revocation` through the
 * `recordRevocation` include (see its header for the layout): `revoke-6.lua` takes exactly these;
 * a script that revokes on the way (ending a session, say) appends its own keys after them.
 * @param nowMs the time the script judges expiry against, and a new data set's not-before base
 */
export function revokeScriptArguments(
  keys: RedisKeys,
  revocation: Revocation,
  audit: RevocationAudit,
  nowMs: number,
  clockSkewMs: Milliseconds,
): RevokeScriptArguments {
  revocation = wholeMilliseconds(revocation);
  const wire = EventCodec.revokeArguments(revocation, audit.origin, audit);
  return {
    revocation,
    keys: [
      keys.record(revocation.kind, revocation.id),
      keys.index,
      keys.log,
      keys.seq,
      keys.epoch,
      keys.notBefore,
    ],
    args: [
      revocation.kind,
      keys.member(revocation.kind, revocation.id),
      EventCodec.record({ ...revocation, ...audit }),
      revocation.expiresAtMs,
      nowMs,
      revocation.kind === 'user' ? revocation.cutoffMs : 0,
      randomUUID(),
      keys.channel,
      nowMs + clockSkewMs,
      wire.recordCutoff,
      ...wire.position,
      wire.fields.length,
      ...wire.fields,
      wire.logOnly.length,
      ...wire.logOnly,
    ],
  };
}

/**
 * The event `recordRevocation` logged, from what it returned (`{epoch, seq, logId, prevLogId}`,
 * or nil when there was nothing to record: then `null`).
 */
export function revokeScriptResult(
  block: RevokeScriptArguments,
  result: unknown,
): RevocationEvent | null {
  if (result === null || result === undefined) return null;
  const [epoch, seq, logId, prevLogId] = result as [string, number, string, string];
  return { ...block.revocation, epoch, seq: Number(seq), logId, prevLogId };
}

/**
 * Where a page of {@link RevocationStore.list} ended: an index member and its score (the expiry).
 * The next page continues after this position in the index's order, whether or not the member is
 * still there.
 */
export interface ListPosition {
  readonly expiresAtMs: number;
  readonly member: string;
}

/** A {@link ListPosition} as text, `<expiresAtMs>:<member>`, e.g. for a client's cursor. */
export function formatListPosition(position: ListPosition): string {
  return `${position.expiresAtMs}:${position.member}`;
}

/** The position {@link formatListPosition} wrote; `undefined` for any other text. */
export function parseListPosition(text: string): ListPosition | undefined {
  const match = /^(\d{1,16}):([tus]:[^]*)$/.exec(text);
  if (match === null) return undefined;
  const member = match[2] as string;
  if (!isRevocationId(member.slice(2))) return undefined;
  return { expiresAtMs: Number(match[1]), member };
}

/** Where in the log a revocation was recorded: its data set (epoch) and sequence number. */
export interface RecordedPosition {
  readonly epoch: string;
  readonly seq: number;
}

/**
 * A live revocation with its audit trail, as listed to administrators, and where it was logged
 * (absent from records written before the store kept it; docs/design.md, "Fleet presence").
 */
export type RevocationRecord = Revocation &
  RevocationAudit & { readonly position?: RecordedPosition };

/** Result of one tidy batch. */
export interface TidyResult {
  readonly indexRemoved: number;
  readonly logTrimmed: number;
  readonly more: boolean;
}

/** Options of {@link RevocationStore}. */
export interface RevocationStoreOptions {
  /** Index members read per page while hydrating. @default REVOCATION_DEFAULTS.snapshotPageSize */
  snapshotPageSize?: number;
  /**
   * Largest disagreement tolerated between replicas' clocks; a new data set's not-before is
   * `now + clockSkewMs`, so that it covers tokens minted by a clock ahead of ours.
   * @default REVOCATION_DEFAULTS.clockSkewMs
   */
  clockSkewMs?: Milliseconds;
  /** The clock every decision reads. @default systemClock */
  clock?: Clock;
  /**
   * This region's name (`REGION`): the origin of every revocation written here whose audit names
   * none (docs/design.md, "Several regions"). @default none (revocations carry no origin)
   */
  region?: string;
}

/**
 * Redis as the source of truth. One atomic script per revocation records it with a TTL equal to
 * the token's remaining life, indexes it, appends it to the log and publishes it. Only `jti`s,
 * `sid`s and `sub`s are stored, never raw tokens.
 */
export class RevocationStore implements RevocationSource {
  private readonly snapshotPageSize: number;
  private readonly clockSkewMs: Milliseconds;
  private readonly clock: Clock;
  private readonly region: string | undefined;
  private readonly run: ReturnType<typeof defineLuaCommands>;

  constructor(
    private readonly redis: RedisClient,
    readonly keys: RedisKeys,
    options: RevocationStoreOptions = {},
  ) {
    this.run = defineLuaCommands(redis, STORE_COMMANDS);
    this.snapshotPageSize = options.snapshotPageSize ?? REVOCATION_DEFAULTS.snapshotPageSize;
    this.clockSkewMs = options.clockSkewMs ?? REVOCATION_DEFAULTS.clockSkewMs;
    this.clock = options.clock ?? systemClock;
    this.region = options.region;
  }

  /**
   * Records a revocation.
   * @returns the logged event, or `null` when there was nothing to record (already expired or
   *   already covered by an equal or later revocation)
   */
  async revoke(
    revocation: Revocation,
    audit: RevocationAudit = {},
  ): Promise<RevocationEvent | null> {
    const block = revokeScriptArguments(
      this.keys,
      revocation,
      withOrigin(audit, this.region),
      this.clock.now(),
      this.clockSkewMs,
    );
    return revokeScriptResult(block, await this.run('rescindRevoke', block.keys, block.args));
  }

  /**
   * Whether the store revokes this token (its record, its session's, its user's cut-off, or the
   * store-wide not-before; every token while the store has no data set): one `MGET`, used on
   * cache overflow and by the `redis` strategy.
   */
  async isRevoked(claims: CheckedClaims): Promise<boolean> {
    const keys = [
      this.keys.record('token', claims.jti),
      this.keys.record('user', claims.sub),
      this.keys.notBefore,
      this.keys.epoch,
    ];
    if (claims.sid !== undefined) keys.push(this.keys.record('session', claims.sid));
    const [token, user, notBefore, epoch, session] = await this.redis.mget(...keys);
    // No epoch: the store lost its data and nothing has re-created it yet, so its silence
    // proves nothing; fail safe until the new data set (and its not-before) exists.
    if (token !== null || epoch === null) return true;
    // A session's end revokes every token it issued, whatever their iat.
    if (session !== null && session !== undefined) return true;
    if (claims.iatMs <= Number(notBefore ?? 0)) return true;
    if (user === null) return false;
    const record = EventCodec.revocationOfRecord(user);
    return record.kind === 'user' && claims.iatMs <= record.cutoffMs;
  }

  /**
   * Claims a message id once: true the first time `id` is claimed in `scope` within `ttlMs`,
   * false on every later claim, from any replica (one `SET NX PX`). Only a digest of the id is
   * stored. A store that lost its data forgets the claims; replaying a revocation then only
   * revokes again, which is harmless.
   */
  async claimOnce(scope: string, id: string, ttlMs: Milliseconds): Promise<boolean> {
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(scope)) throw new RangeError(`invalid scope "${scope}"`);
    const digest = createHash('sha256').update(id).digest('base64url');
    const ttl = Math.max(1, Math.ceil(ttlMs));
    return (await this.redis.set(this.keys.seen(scope, digest), '1', 'PX', ttl, 'NX')) === 'OK';
  }

  /**
   * Gives back a claim {@link claimOnce} granted, for a message whose effect could not be
   * recorded: its sender's retry is then taken as the first sight it is, not as a replay.
   */
  async releaseClaim(scope: string, id: string): Promise<void> {
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(scope)) throw new RangeError(`invalid scope "${scope}"`);
    const digest = createHash('sha256').update(id).digest('base64url');
    await this.redis.del(this.keys.seen(scope, digest));
  }

  /** @inheritdoc */
  async readHead(): Promise<StoreHead> {
    const [epoch, seq, logId, notBefore] = (await this.run(
      'rescindReadHead',
      [this.keys.seq, this.keys.epoch, this.keys.log, this.keys.notBefore],
      [randomUUID(), this.clock.now() + this.clockSkewMs],
    )) as [string, string, string, string];
    return { epoch, seq: Number(seq), logId, notBeforeMs: Number(notBefore) || 0 };
  }

  /** @inheritdoc */
  async raiseNotBefore(notBeforeMs: Milliseconds): Promise<void> {
    await this.run(
      'rescindRaiseNotBefore',
      [this.keys.epoch, this.keys.notBefore],
      [randomUUID(), Math.ceil(notBeforeMs)],
    );
  }

  /**
   * @inheritdoc
   * Reads the index in its own order (expiry, then member) with plain `ZRANGE` by rank, which
   * costs Redis a fraction of what `ZSCAN` does per member: a fleet that starts at once hydrates
   * each replica from the same index (docs/design.md, "Cheap hydration"). Ranks shift while the
   * worker tidies or an expiry is raised, so every page also reads the last member of the page
   * before it and is used only when that member is still where it was; otherwise the page is
   * read after that position by the atomic `listPage` script, as the administrators' list is.
   */
  async snapshot(onPage: (page: readonly Revocation[]) => void): Promise<void> {
    const size = this.snapshotPageSize;
    // Users' records are read while the pages go on: pages merge in any order (the cache's merge
    // is idempotent and monotonic), so their round trips need not hold up the next page.
    const userPages: Promise<void>[] = [];
    const apply = (flat: readonly string[], from: number): void => {
      const now = this.clock.now();
      const page: Revocation[] = [];
      const users: string[] = [];
      for (let i = from; i < flat.length; i += 2) {
        const member = flat[i] as string;
        const expiresAtMs = Number(flat[i + 1]);
        if (expiresAtMs <= now) continue;
        const id = member.slice(2);
        // Token and session members carry all there is to know; a user's cut-off is in its record.
        // A member of a kind this build does not know is left alone (a newer build wrote it).
        if (member.startsWith('t:')) page.push({ kind: 'token', id, expiresAtMs, createdAtMs: 0 });
        else if (member.startsWith('s:')) {
          page.push({ kind: 'session', id, expiresAtMs, createdAtMs: 0 });
        } else if (member.startsWith('u:')) users.push(this.keys.record('user', id));
      }
      if (page.length > 0) onPage(page);
      if (users.length > 0) {
        const read = this.readUsers(users, onPage);
        read.catch(() => undefined); // awaited below; this only keeps it quiet until then
        userPages.push(read);
      }
    };
    try {
      // The first page, from the first live member, atomically.
      let flat = await this.listPageFlat(size);
      let rank: number | null = null;
      let from = 0;
      for (;;) {
        apply(flat, from);
        if (flat.length - from < 2 * size) break;
        const last = { member: flat[flat.length - 2] as string, score: flat[flat.length - 1] };
        // Where the last member should be now, if nothing moved: the next page starts with it.
        rank = rank === null ? await this.redis.zrank(this.keys.index, last.member) : rank + size;
        flat = [];
        if (rank !== null) {
          flat = await this.redis.zrange(this.keys.index, rank, rank + size, 'WITHSCORES');
        }
        if (flat[0] === last.member && Number(flat[1]) === Number(last.score)) {
          from = 2;
        } else {
          // Something moved before the position: resume after it atomically, then find its rank.
          flat = await this.listPageFlat(size, Number(last.score), last.member);
          from = 0;
          rank = null;
        }
      }
    } catch (error) {
      await Promise.allSettled(userPages);
      throw error;
    }
    await Promise.all(userPages);
  }

  /** The `listPage` script's reply, `[member, expiry, …]`, as `ZRANGE … WITHSCORES` gives it. */
  private async listPageFlat(limit: number, afterExpiry?: number, afterMember?: string) {
    return (await this.run(
      'rescindListPage',
      [this.keys.index],
      [
        this.clock.now(),
        limit,
        afterExpiry === undefined ? '' : String(afterExpiry),
        afterMember ?? '',
      ],
    )) as string[];
  }

  /** The user revocations whose records are `recordKeys`, handed to `onPage` once read. */
  private async readUsers(
    recordKeys: readonly string[],
    onPage: (page: readonly Revocation[]) => void,
  ): Promise<void> {
    const page: Revocation[] = [];
    for (const raw of await this.redis.mget(...recordKeys)) {
      if (raw !== null) page.push(EventCodec.revocationOfRecord(raw));
    }
    if (page.length > 0) onPage(page);
  }

  /** @inheritdoc */
  async readAfter(logId: string, limit: number): Promise<LogEntry[]> {
    const entries = await this.redis.xrange(this.keys.log, `(${logId}`, '+', 'COUNT', limit);
    return entries.map(([id, fields]) => EventCodec.logEntry(id, fields));
  }

  /**
   * {@link readAfter}, with the region each entry was made in (`undefined` when it names none):
   * what the bridge between regions reads a peer's log with (docs/design.md, "Several regions").
   */
  async readMarkedAfter(
    logId: string,
    limit: number,
  ): Promise<{ entry: LogEntry; origin: string | undefined }[]> {
    const entries = await this.redis.xrange(this.keys.log, `(${logId}`, '+', 'COUNT', limit);
    return entries.map(([id, fields]) => ({
      entry: EventCodec.logEntry(id, fields),
      origin: EventCodec.originOf(fields),
    }));
  }

  /** @inheritdoc */
  async restore(revocations: readonly Revocation[]): Promise<void> {
    await restoreRevocations(revocations, this.clock, (revocation, audit) =>
      this.revoke(revocation, audit),
    );
  }

  /**
   * One page of live revocations, ordered by expiry, with their audit trail (for administrators).
   * @param after where the previous page ended; the page continues after it even when that
   *   revocation has since expired and left the index
   * @returns the page and, when more may follow, the position to continue after
   */
  async list(
    limit: number,
    after?: ListPosition,
  ): Promise<{ items: RevocationRecord[]; next?: ListPosition }> {
    const flat = (await this.run(
      'rescindListPage',
      [this.keys.index],
      [
        this.clock.now(),
        limit,
        after === undefined ? '' : String(after.expiresAtMs),
        after?.member ?? '',
      ],
    )) as string[];
    if (flat.length === 0) return { items: [] };
    const members: string[] = [];
    for (let i = 0; i < flat.length; i += 2) members.push(flat[i] as string);
    const raws = await this.redis.mget(
      ...members.map((member) => this.keys.recordOfMember(member)),
    );
    const items: RevocationRecord[] = [];
    for (const raw of raws) {
      // A null record expired between the two reads; the worker will drop its index entry.
      if (raw !== null) items.push(EventCodec.recordOf(raw));
    }
    if (members.length < limit) return { items };
    return {
      items,
      next: {
        expiresAtMs: Number(flat[flat.length - 1]),
        member: members[members.length - 1] as string,
      },
    };
  }

  /**
   * The live revocations recorded under `id` of each of `kinds` (one `MGET`), in that order,
   * each with where it was logged when the store kept that.
   */
  async find(
    id: string,
    kinds: readonly RevocationKind[] = ['token', 'user', 'session'],
  ): Promise<RevocationRecord[]> {
    if (!isRevocationId(id)) throw new RangeError('not a revocation id');
    if (kinds.length === 0) return [];
    const raws = await this.redis.mget(...kinds.map((kind) => this.keys.record(kind, id)));
    const found: RevocationRecord[] = [];
    for (const raw of raws) if (raw !== null) found.push(EventCodec.recordOf(raw));
    return found;
  }

  /** Removes what expired revocations left in the index and the log, one bounded batch. */
  async tidy(batchSize = 500, nowMs: Milliseconds = this.clock.now()): Promise<TidyResult> {
    const [indexRemoved, logTrimmed, more] = (await this.run(
      'rescindTidy',
      [this.keys.index, this.keys.log],
      [nowMs, batchSize, ...EventCodec.tidyArguments()],
    )) as [number, number, number];
    return { indexRemoved, logTrimmed, more: more === 1 };
  }
}
