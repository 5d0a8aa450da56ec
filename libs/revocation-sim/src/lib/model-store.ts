import {
  type CheckedClaims,
  type Milliseconds,
  type LogEntry,
  type Revocation,
  type RevocationKind,
} from '@rescind/revocation-core';
import {
  EVENT_FIELDS,
  EventCodec,
  RedisKeys,
  type RevokeFieldArguments,
  V1_BODY_FIELD,
} from '@rescind/revocation-redis';
import { compareIds, formatId, nextId, parseId, type StreamId, ZERO_ID } from './stream-id';

/** An error reply of Redis (the script or command was refused). */
export class RedisReplyError extends Error {
  override readonly name = 'RedisReplyError';
}

/** What `SET … PX` answers to a TTL that is not a whole number. */
export const NOT_AN_INTEGER = 'ERR value is not an integer or out of range';

/**
 * The `PX` argument as Redis reads it: a whole number of milliseconds, or the error reply (a
 * script's number reaches Redis as text, so a fraction stays a fraction).
 * @throws RedisReplyError
 */
export function pxMilliseconds(ttl: number): number {
  if (!Number.isSafeInteger(ttl)) throw new RedisReplyError(NOT_AN_INTEGER);
  return ttl;
}

interface StoredRecord {
  readonly json: string;
  /** Server-clock instant at which Redis drops the key. */
  readonly expiresAt: Milliseconds;
}

interface StreamEntry {
  readonly id: StreamId;
  /** Field/value pairs, as `XADD` takes them. */
  readonly fields: readonly string[];
}

/** Everything a Redis restart without persistence loses. */
interface StoreData {
  epoch: string | null;
  notBefore: string | null;
  seq: number;
  readonly records: Map<string, StoredRecord>;
  readonly index: Map<string, number>;
  /** `null` until the first `XADD`; an emptied stream keeps its last generated id. */
  stream: { entries: StreamEntry[]; lastId: StreamId } | null;
}

function emptyData(): StoreData {
  return {
    epoch: null,
    notBefore: null,
    seq: 0,
    records: new Map(),
    index: new Map(),
    stream: null,
  };
}

/** Arguments of the revoke script (revocation-redis's `commands/revoke-6.lua`), as the client sends them. */
export interface RevokeArgs {
  readonly revocation: Revocation;
  /** The record JSON kept with the revocation (with its audit fields). */
  readonly recordJson: string;
  /** The caller's clock when it called (ARGV[5]). */
  readonly nowMs: Milliseconds;
  /** The event's field names and the revocation's fields, from the event codec (ARGV[10..]). */
  readonly wire: RevokeFieldArguments;
  /** Not-before of a data set this call creates (ARGV[9]). */
  readonly newEpochNotBeforeMs: Milliseconds;
}

/** The script's reply: epoch, seq, log id, and the id of the entry it follows. */
export type RevokeReply = [string, number, string, string] | null;

/** The read-head script's reply: epoch, seq, last generated id, not-before (all strings). */
export type HeadReply = [string, string, string, string];

/** One entry of the index as `ZSCAN` returns it. */
export interface IndexMember {
  readonly member: string;
  readonly score: number;
}

/** What the store gave up in a failover: the log entries the promoted replica never received. */
export interface FailoverLoss {
  readonly lostEntries: number;
  /** Stream ids of the entries lost. */
  readonly lostIds: readonly string[];
}

/**
 * Redis as the revocation store uses it, in memory and synchronous: the epoch and not-before
 * keys, the gap-free seq counter, revocation records with TTLs (on the server's clock), the
 * index, and the log stream, each operation with the semantics of the Lua script or command the
 * real store (libs/revocation-redis) runs. Faults: restart with or without data, failover onto a
 * replica that lost the latest writes (same epoch), trimming, unreadable entries.
 */
export class ModelStore {
  private data: StoreData = emptyData();
  /** Undo steps of every write since the last restart without data, for failovers. */
  private journal: (() => void)[] = [];
  /** Journal length just before each `XADD`. */
  private appendMarks: number[] = [];
  private epochs = 0;

  /**
   * @param serverNow the Redis server's clock (TTLs and stream ids run on it)
   * @param publish delivers a `PUBLISH` on the revocation channel to the bus
   */
  constructor(
    private serverNow: () => Milliseconds,
    private readonly publish: (message: string) => void,
  ) {}

  /** Replaces the server clock (a failover promotes a host with another clock). */
  useClock(serverNow: () => Milliseconds): void {
    this.serverNow = serverNow;
  }

  /** The revoke script: record with TTL, index, seq, log entry and message, or nothing. */
  revoke(args: RevokeArgs): RevokeReply {
    const { revocation } = args;
    const key = recordKey(revocation.kind, revocation.id);
    // Whole milliseconds, rounded up: PX refuses fractions, and the record must outlive the token.
    let ttl = Math.ceil(revocation.expiresAtMs - args.nowMs);
    if (ttl <= 0) return null;
    const prev = this.getRecord(key);
    const mark = this.journal.length;
    if (prev !== undefined) {
      if (revocation.kind === 'token') return null;
      if (revocation.kind === 'session') {
        // Idempotent; a later expiry extends it (the index holds the greatest: ZADD GT).
        const held = this.data.index.get(member('session', revocation.id));
        if (held !== undefined && held >= revocation.expiresAtMs) return null;
      } else {
        const cutoff = cutoffOf(prev.json, args.wire.recordCutoff);
        if (cutoff !== undefined && cutoff >= revocation.cutoffMs) return null;
      }
    }
    const epoch = this.ensureEpoch(args.newEpochNotBeforeMs);
    if (prev !== undefined) {
      // A later cut-off never shortens what the earlier one still covered.
      const left = prev.expiresAt - this.serverNow();
      if (left > ttl) ttl = left;
    }
    this.setRecord(key, args.recordJson, ttl);
    this.zaddGreater(member(revocation.kind, revocation.id), revocation.expiresAtMs);
    const seq = this.incrSeq();
    const after = formatId(this.data.stream?.lastId ?? ZERO_ID);
    const [epochName, seqName, prevName, logIdName] = args.wire.position;
    const fields = [...args.wire.fields, epochName, epoch, seqName, String(seq), prevName, after];
    // The audit trail of a revocation with an origin is logged after the position, not published.
    const id = this.xadd([...fields, ...args.wire.logOnly], mark);
    this.publish(messageOf(fields, logIdName, id));
    return [epoch, seq, id, after];
  }

  /** The read-head script: creates a data set (epoch and not-before) when there is none. */
  readHead(newEpochNotBeforeMs: Milliseconds): HeadReply {
    const epoch = this.ensureEpoch(newEpochNotBeforeMs);
    const id = formatId(this.data.stream?.lastId ?? ZERO_ID);
    return [epoch, String(this.data.seq), id, this.data.notBefore ?? '0'];
  }

  /** The raise-not-before script: creates the epoch (only) when absent, never lowers. */
  raiseNotBefore(notBeforeMs: Milliseconds): void {
    if (this.data.epoch === null) this.setEpoch(this.newEpochName());
    const current = Number(this.data.notBefore ?? '0') || 0;
    if (notBeforeMs > current) this.setNotBefore(String(notBeforeMs));
  }

  /**
   * `ZSCAN` of the index. Redis keeps a sorted set this small (≤ 128 members) as a listpack and
   * returns it whole in one call, whatever `COUNT` says.
   */
  scanIndex(): IndexMember[] {
    const members: IndexMember[] = [];
    for (const [name, score] of this.data.index) members.push({ member: name, score });
    return members;
  }

  /** `MGET` of user records by sub, `null` where there is none (expired or never written). */
  userRecords(subs: readonly string[]): (string | null)[] {
    return subs.map((sub) => this.getRecord(recordKey('user', sub))?.json ?? null);
  }

  /** `XRANGE log (logId + COUNT limit`, each entry read as the store's readAfter reads it. */
  readAfter(logId: string, limit: number): LogEntry[] {
    const after = parseId(logId);
    const entries = this.data.stream?.entries ?? [];
    const out: LogEntry[] = [];
    for (const entry of entries) {
      if (out.length >= limit) break;
      if (compareIds(entry.id, after) > 0) {
        out.push(EventCodec.logEntry(formatId(entry.id), entry.fields));
      }
    }
    return out;
  }

  /**
   * `XREAD COUNT limit STREAMS log logId` (without `BLOCK`): the entries after `logId`, each its
   * stream id and field/value pairs, as ioredis returns them to a bridge between regions.
   */
  xread(logId: string, limit: number): [string, readonly string[]][] {
    const after = parseId(logId);
    const out: [string, readonly string[]][] = [];
    for (const entry of this.data.stream?.entries ?? []) {
      if (out.length >= limit) break;
      if (compareIds(entry.id, after) <= 0) continue;
      out.push([formatId(entry.id), entry.fields]);
    }
    return out;
  }

  /**
   * `XRANGE log (logId + COUNT limit` with the region each entry names as its origin: what
   * `RevocationStore.readMarkedAfter` reads.
   */
  readMarkedAfter(logId: string, limit: number): { entry: LogEntry; origin: string | undefined }[] {
    return this.xread(logId, limit).map(([id, fields]) => ({
      entry: EventCodec.logEntry(id, fields),
      origin: EventCodec.originOf(fields),
    }));
  }

  /**
   * Every live revocation with its record, as `RevocationStore.list` pages them (the list
   * script's index members after `nowMs`, then their records), in one call.
   */
  listLive(nowMs: Milliseconds): { revocation: Revocation; origin: string | undefined }[] {
    const out: { revocation: Revocation; origin: string | undefined }[] = [];
    for (const [name, score] of this.data.index) {
      if (score <= nowMs) continue;
      const record = this.getRecord(`rev:${name}`);
      if (record === undefined) continue;
      out.push({
        revocation: EventCodec.revocationOfRecord(record.json),
        origin: EventCodec.recordOf(record.json).origin,
      });
    }
    return out;
  }

  /** Whether this store holds a record covering `revocation` (the simulation's bookkeeping). */
  holds(revocation: Revocation): boolean {
    const record = this.getRecord(recordKey(revocation.kind, revocation.id));
    if (record === undefined) return false;
    if (revocation.kind !== 'user') return true;
    const held = EventCodec.revocationOfRecord(record.json);
    return held.kind === 'user' && held.cutoffMs >= revocation.cutoffMs;
  }

  /**
   * The `MGET` of `isRevoked`: the token's record, its user's cut-off, the not-before, the
   * epoch (without one the store lost its data and has not re-created it: everything is
   * revoked), and its session's record when it has one.
   */
  isRevoked(claims: CheckedClaims): boolean {
    const token = this.getRecord(recordKey('token', claims.jti));
    if (token !== undefined || this.data.epoch === null) return true;
    if (
      claims.sid !== undefined &&
      this.getRecord(recordKey('session', claims.sid)) !== undefined
    ) {
      return true;
    }
    if (claims.iatMs <= Number(this.data.notBefore ?? 0)) return true;
    const user = this.getRecord(recordKey('user', claims.sub));
    if (user === undefined) return false;
    const record = EventCodec.revocationOfRecord(user.json);
    return record.kind === 'user' && claims.iatMs <= record.cutoffMs;
  }

  /**
   * One batch of the tidy script: drops expired index members and trims the log up to its oldest
   * live entry (never past it). `nowMs` is the worker's clock.
   */
  tidy(nowMs: Milliseconds, batch: number): { indexRemoved: number; logTrimmed: number } {
    const expired = [...this.data.index]
      .filter(([, score]) => score <= nowMs)
      .sort(([am, as], [bm, bs]) => as - bs || (am < bm ? -1 : am > bm ? 1 : 0))
      .slice(0, batch);
    for (const [name] of expired) this.zrem(name);
    const entries = (this.data.stream?.entries ?? []).slice(0, batch);
    let minId: StreamId | null = null;
    for (const entry of entries) {
      const exp = expiryOf(entry.fields);
      if (exp !== undefined && exp > nowMs) {
        minId = entry.id;
        break;
      }
    }
    const last = entries[entries.length - 1];
    if (minId === null && last !== undefined) minId = { ms: last.id.ms, n: last.id.n + 1 };
    const logTrimmed = minId === null ? 0 : this.xtrimMinId(minId);
    return { indexRemoved: expired.length, logTrimmed };
  }

  /** `XTRIM` of the `count` oldest entries, live or not (an operator, or `MAXLEN`). */
  trimOldest(count: number): number {
    const entries = this.data.stream?.entries ?? [];
    const keep = entries[Math.min(count, entries.length)];
    const last = this.data.stream?.lastId ?? ZERO_ID;
    return this.xtrimMinId(keep?.id ?? { ms: last.ms, n: last.n + 1 });
  }

  /**
   * Appends an entry this build cannot read: garbage that took no number, or (with `newer`) an
   * entry of a newer build's format that took the next number through the same script.
   */
  appendUnreadable(newer: boolean): void {
    const epoch = this.data.epoch;
    const mark = this.journal.length;
    if (!newer || epoch === null) {
      this.xadd([V1_BODY_FIELD, '{"garbage'], mark);
      return;
    }
    const seq = this.incrSeq();
    const after = formatId(this.data.stream?.lastId ?? ZERO_ID);
    const f = EVENT_FIELDS;
    const fields = [
      ...[f.version, '3', f.kind, 'device', f.id, `d${seq}`],
      ...[f.expiresAtMs, String(Math.ceil(this.serverNow())), f.createdAtMs, '0'],
      ...[f.epoch, epoch, f.seq, String(seq), f.prevLogId, after],
    ];
    const id = this.xadd(fields, mark);
    this.publish(messageOf(fields, f.logId, id));
  }

  /** A restart: with persistence nothing changes; without, the data set is gone. */
  restart(keepData: boolean): void {
    if (keepData) return;
    this.data = emptyData();
    this.journal = [];
    this.appendMarks = [];
  }

  /**
   * A failover onto a replica that never received the last `entries` log appends (and every
   * write after the first of them); it then logs under the same sequence numbers.
   */
  failover(entries: number): FailoverLoss {
    const mark = this.appendMarks[Math.max(0, this.appendMarks.length - entries)] ?? 0;
    const lostEntries = this.appendMarks.length - this.appendMarks.filter((m) => m < mark).length;
    const before = new Set((this.data.stream?.entries ?? []).map((e) => formatId(e.id)));
    while (this.journal.length > mark) (this.journal.pop() as () => void)();
    this.appendMarks = this.appendMarks.filter((m) => m < mark);
    for (const entry of this.data.stream?.entries ?? []) before.delete(formatId(entry.id));
    return { lostEntries, lostIds: [...before] };
  }

  /**
   * Whether a replica's log position lies on the store's current history: the entry it names
   * is in the log under that number (or was trimmed from its front), so nothing tells the
   * replica that the history changed.
   */
  onHistory(seq: number, logId: string): boolean {
    if (logId === '0-0') return seq === 0 || this.data.stream === null;
    const entries = this.data.stream?.entries ?? [];
    const id = parseId(logId);
    const entry = entries.find((e) => compareIds(e.id, id) === 0);
    if (entry !== undefined) {
      const logged = EventCodec.logEntry(logId, entry.fields).seq;
      return logged === undefined || logged === seq;
    }
    const first = entries[0];
    const last = this.data.stream?.lastId ?? ZERO_ID;
    return compareIds(id, first?.id ?? { ms: last.ms, n: last.n + 1 }) < 0 && seq <= this.data.seq;
  }

  /** Current sequence number (tests and traces). */
  get seq(): number {
    return this.data.seq;
  }

  /** Current epoch (tests and traces). */
  get epoch(): string | null {
    return this.data.epoch;
  }

  /** Log entries held (tests and traces). */
  get logLength(): number {
    return this.data.stream?.entries.length ?? 0;
  }

  /** Members of the index (tests and traces). */
  get indexSize(): number {
    return this.data.index.size;
  }

  private newEpochName(): string {
    return `e${++this.epochs}`;
  }

  private ensureEpoch(notBeforeMs: Milliseconds): string {
    if (this.data.epoch !== null) return this.data.epoch;
    const epoch = this.newEpochName();
    this.setEpoch(epoch);
    this.setNotBefore(String(notBeforeMs));
    return epoch;
  }

  private getRecord(key: string): StoredRecord | undefined {
    const record = this.data.records.get(key);
    if (record === undefined) return undefined;
    if (record.expiresAt > this.serverNow()) return record;
    this.data.records.delete(key); // lazy expiry, as Redis does on access
    return undefined;
  }

  private setEpoch(epoch: string): void {
    const before = this.data.epoch;
    this.data.epoch = epoch;
    this.journal.push(() => (this.data.epoch = before));
  }

  private setNotBefore(value: string): void {
    const before = this.data.notBefore;
    this.data.notBefore = value;
    this.journal.push(() => (this.data.notBefore = before));
  }

  private setRecord(key: string, json: string, ttl: number): void {
    const records = this.data.records;
    const before = records.get(key);
    records.set(key, { json, expiresAt: this.serverNow() + pxMilliseconds(ttl) });
    this.journal.push(() =>
      before === undefined ? records.delete(key) : records.set(key, before),
    );
  }

  private zaddGreater(name: string, score: number): void {
    const index = this.data.index;
    const before = index.get(name);
    if (before !== undefined && before >= score) return;
    index.set(name, score);
    this.journal.push(() => (before === undefined ? index.delete(name) : index.set(name, before)));
  }

  private zrem(name: string): void {
    const index = this.data.index;
    const before = index.get(name);
    if (before === undefined) return;
    index.delete(name);
    this.journal.push(() => index.set(name, before));
  }

  private incrSeq(): number {
    const before = this.data.seq;
    this.data.seq = before + 1;
    this.journal.push(() => (this.data.seq = before));
    return this.data.seq;
  }

  /** `XADD *`; `mark` is where the script that appends began (a failover loses it whole). */
  private xadd(fields: readonly string[], mark: number): string {
    this.appendMarks.push(mark);
    const data = this.data;
    const created = data.stream === null;
    const stream = data.stream ?? { entries: [], lastId: ZERO_ID };
    data.stream = stream;
    const lastBefore = stream.lastId;
    const id = nextId(lastBefore, this.serverNow());
    stream.entries.push({ id, fields });
    stream.lastId = id;
    this.journal.push(() => {
      stream.entries.pop();
      stream.lastId = lastBefore;
      if (created) data.stream = null;
    });
    return formatId(id);
  }

  private xtrimMinId(minId: StreamId): number {
    const stream = this.data.stream;
    if (stream === null) return 0;
    let cut = 0;
    while (cut < stream.entries.length && compareIds(stream.entries[cut]!.id, minId) < 0) cut++;
    if (cut === 0) return 0;
    const removed = stream.entries.splice(0, cut);
    this.journal.push(() => stream.entries.unshift(...removed));
    return cut;
  }
}

/** Key of a revocation record (as RedisKeys.record names it, without the prefix). */
function recordKey(kind: RevocationKind, id: string): string {
  return `rev:${member(kind, id)}`;
}

/** Member of the index (as RedisKeys.member names it). */
export function member(kind: RevocationKind, id: string): string {
  return MEMBERS.member(kind, id);
}

/** Names members exactly as the real store does (the prefix plays no part in a member). */
const MEMBERS = new RedisKeys('sim');

function cutoffOf(json: string, name: string): number | undefined {
  try {
    const value = (JSON.parse(json) as Record<string, unknown>)[name];
    return typeof value === 'number' ? value : undefined;
  } catch {
    return undefined;
  }
}

/** The message the revoke script publishes: every field of the entry, and its id. */
function messageOf(fields: readonly string[], logIdName: string, id: string): string {
  const message: Record<string, string> = {};
  for (let i = 0; i < fields.length; i += 2) message[fields[i] as string] = fields[i + 1] as string;
  message[logIdName] = id;
  return JSON.stringify(message);
}

/**
 * The expiry the tidy script reads, by name: the expiry field, or the same property of a
 * first-format entry's JSON; `undefined` when there is none (Lua's `tonumber` gives nil).
 */
function expiryOf(fields: readonly string[]): number | undefined {
  const number = (value: unknown): number | undefined => {
    const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
    return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
  };
  let legacy: string | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] === EVENT_FIELDS.expiresAtMs) return number(fields[i + 1]);
    if (fields[i] === V1_BODY_FIELD) legacy = fields[i + 1];
  }
  if (legacy === undefined) return undefined;
  try {
    return number((JSON.parse(legacy) as Record<string, unknown>)[EVENT_FIELDS.expiresAtMs]);
  } catch {
    return undefined;
  }
}
