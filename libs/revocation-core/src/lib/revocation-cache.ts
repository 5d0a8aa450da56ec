import { LRUCache } from 'lru-cache';
import { type CheckedClaims } from './checked-claims';
import { type Revocation } from './revocation';
import { REVOCATION_DEFAULTS } from './revocation-defaults';
import { RevocationVerdict } from './revocation-verdict';
import { type Milliseconds } from './units';

/** Options of {@link RevocationCache}. */
export interface RevocationCacheOptions {
  /**
   * Most entries held (token, session and user revocations together).
   * @default REVOCATION_DEFAULTS.cacheMaxEntries
   */
  maxEntries?: number;
}

interface UserEntry {
  cutoffMs: Milliseconds;
  expiresAtMs: Milliseconds;
}

/**
 * Token and session entries hold their expiry as whole seconds since {@link EXPIRY_BASE_S}: a
 * small integer that V8 stores unboxed (a Smi), which keeps an entry near 100 bytes. User entries
 * hold their cut-off and expiry.
 */
type Entry = number | UserEntry;

/** 2023-11-14T22:13:20Z; token expiries are stored relative to it. */
const EXPIRY_BASE_S = 1_700_000_000;
/**
 * User and session keys start with a control character of their own, which a `jti` (printable
 * ASCII, as every revocation id) never contains: the three kinds share one LRU without colliding.
 */
const USER = '\u0001';
const SESSION = '\u0002';
const BUCKET_MS = 1000;
/** Stale purge slots tolerated beyond as many as there are live ones, before compacting. */
const MIN_SLOTS_TO_COMPACT = 1024;

/** Bucket b is purged once the clock reaches (b + 1) s, the first whole second at or after expiry. */
function bucketOf(expiresAtMs: Milliseconds): number {
  return Math.ceil(expiresAtMs / BUCKET_MS) - 1;
}

function expiryOf(entry: Entry): Milliseconds {
  return typeof entry === 'number' ? (entry + EXPIRY_BASE_S) * 1000 : entry.expiresAtMs;
}

function numericEntry(expiresAtMs: Milliseconds): number {
  // Rounded up: a revocation may outlive its token by under a second, never the reverse.
  return Math.ceil(expiresAtMs / 1000) - EXPIRY_BASE_S;
}

/**
 * The in-memory set of live revocations that the guard checks with no I/O.
 *
 * Entries live until the token they revoke would expire (docs/design.md, "Entry lifetimes");
 * expired entries are purged in one-second batches rather than with per-entry timers. The cache
 * only grows by merging, never loses a live entry except by the size bound, and tracks until when
 * such an eviction makes a miss non-authoritative (docs/design.md, "Bounded cache").
 */
export class RevocationCache {
  private readonly lru: LRUCache<string, Entry>;
  /**
   * Keys by the second their entry expires in. A key that leaves the cache or moves to another
   * second leaves a stale slot behind rather than being searched for; stale slots are compacted
   * away once they outnumber the live ones (docs/revocation-model.md, "Memory").
   */
  private readonly buckets = new Map<number, string[]>();
  /** Live slots in {@link buckets}: one per key the cache holds. */
  private scheduled = 0;
  /** All slots in {@link buckets}, stale ones included. */
  private slots = 0;
  private lastPurgedBucket = -1;
  private incompleteUntilMs: Milliseconds = 0;
  private evictionCount = 0;
  private notBefore: Milliseconds = 0;

  constructor(options: RevocationCacheOptions = {}) {
    const max = options.maxEntries ?? REVOCATION_DEFAULTS.cacheMaxEntries;
    if (!Number.isSafeInteger(max) || max < 1) {
      throw new RangeError(`maxEntries must be a positive integer, got ${String(max)}`);
    }
    this.lru = new LRUCache<string, Entry>({
      max,
      // Every way out of the LRU (evicted, replaced, deleted) turns its purge slot stale, which
      // compaction bounds (docs/revocation-model.md, "Memory").
      dispose: (entry, _key, reason) => {
        this.unschedulePurge(expiryOf(entry));
        if (reason !== 'evict') return;
        this.evictionCount++;
        this.incompleteUntilMs = Math.max(this.incompleteUntilMs, expiryOf(entry));
      },
    });
  }

  /** Entries currently held. */
  get size(): number {
    return this.lru.size;
  }

  /** Entries dropped by the size bound since start. */
  get evictions(): number {
    return this.evictionCount;
  }

  /** The bound on entries. */
  get maxEntries(): number {
    return this.lru.max;
  }

  /** Slots in purge buckets, stale ones included: bounded by twice {@link size} plus a constant. */
  get purgeSlots(): number {
    return this.slots;
  }

  /** Keys waiting in purge buckets; never more than {@link size}. */
  get scheduledPurges(): number {
    return this.scheduled;
  }

  /** The store-wide not-before: every token issued at or before it is revoked. 0 when unset. */
  get notBeforeMs(): Milliseconds {
    return this.notBefore;
  }

  /**
   * Raises the store-wide not-before (never lowers it): applied from the store's head, it makes
   * a replica reject every token issued before the store lost its data.
   * @returns whether it rose
   */
  raiseNotBefore(notBeforeMs: Milliseconds): boolean {
    if (!(notBeforeMs > this.notBefore)) return false;
    this.notBefore = notBeforeMs;
    return true;
  }

  /** Whether a miss is authoritative: nothing still live was ever evicted. */
  isComplete(nowMs: Milliseconds): boolean {
    return nowMs >= this.incompleteUntilMs;
  }

  /** The hot-path check: no I/O, two map lookups (three for a token with a session). */
  check(claims: CheckedClaims, nowMs: Milliseconds): RevocationVerdict {
    if (claims.iatMs <= this.notBefore) return RevocationVerdict.Revoked;
    const token = this.lru.get(claims.jti);
    if (token !== undefined && expiryOf(token) > nowMs) return RevocationVerdict.Revoked;
    if (claims.sid !== undefined) {
      const session = this.lru.get(SESSION + claims.sid);
      if (session !== undefined && expiryOf(session) > nowMs) return RevocationVerdict.Revoked;
    }
    const user = this.lru.get(USER + claims.sub);
    if (
      user !== undefined &&
      typeof user !== 'number' &&
      claims.iatMs <= user.cutoffMs &&
      user.expiresAtMs > nowMs
    ) {
      return RevocationVerdict.Revoked;
    }
    return nowMs >= this.incompleteUntilMs ? RevocationVerdict.Accepted : RevocationVerdict.Unknown;
  }

  /**
   * Merges a revocation. Idempotent and monotonic: a later cut-off or expiry wins, nothing is
   * ever un-revoked.
   * @returns whether the cache changed
   */
  add(revocation: Revocation, nowMs: Milliseconds): boolean {
    if (revocation.expiresAtMs <= nowMs) return false;
    if (revocation.kind !== 'user') {
      const key = revocation.kind === 'token' ? revocation.id : SESSION + revocation.id;
      const current = this.lru.peek(key);
      const entry = numericEntry(revocation.expiresAtMs);
      if (typeof current === 'number' && current >= entry) return false;
      this.lru.set(key, entry);
      this.schedulePurge(key, expiryOf(entry));
      return true;
    }
    const key = USER + revocation.id;
    const current = this.lru.peek(key);
    if (
      current !== undefined &&
      typeof current !== 'number' &&
      current.cutoffMs >= revocation.cutoffMs &&
      current.expiresAtMs >= revocation.expiresAtMs
    ) {
      return false;
    }
    const merged: UserEntry =
      current !== undefined && typeof current !== 'number'
        ? {
            cutoffMs: Math.max(current.cutoffMs, revocation.cutoffMs),
            expiresAtMs: Math.max(current.expiresAtMs, revocation.expiresAtMs),
          }
        : { cutoffMs: revocation.cutoffMs, expiresAtMs: revocation.expiresAtMs };
    this.lru.set(key, merged);
    this.schedulePurge(key, merged.expiresAtMs);
    return true;
  }

  /**
   * Drops entries whose tokens have expired, one-second bucket at a time.
   * @returns how many entries were removed
   */
  purgeExpired(nowMs: Milliseconds): number {
    const last = Math.floor(nowMs / BUCKET_MS) - 1;
    let removed = 0;
    const purge = (bucket: number): void => {
      const keys = this.buckets.get(bucket);
      if (keys === undefined) return;
      // Every live slot here is for an entry that has expired: deleting it disposes the entry,
      // which counts its slot out (a stale slot's key is either gone or lives on elsewhere).
      for (const key of keys) {
        const entry = this.lru.peek(key);
        if (entry !== undefined && expiryOf(entry) <= nowMs && this.lru.delete(key)) removed++;
      }
      this.buckets.delete(bucket);
      this.slots -= keys.length;
    };
    if (this.lastPurgedBucket < 0 || last - this.lastPurgedBucket > this.buckets.size) {
      for (const bucket of [...this.buckets.keys()]) if (bucket <= last) purge(bucket);
    } else {
      for (let bucket = this.lastPurgedBucket + 1; bucket <= last; bucket++) purge(bucket);
    }
    this.lastPurgedBucket = Math.max(this.lastPurgedBucket, last);
    return removed;
  }

  /** Every live revocation held, e.g. to write them back into a store that lost its data. */
  *revocations(nowMs: Milliseconds): IterableIterator<Revocation> {
    for (const [key, entry] of this.lru.entries()) {
      if (expiryOf(entry) <= nowMs) continue;
      if (typeof entry !== 'number') {
        yield { kind: 'user', id: key.slice(USER.length), ...entry, createdAtMs: nowMs };
      } else if (key.startsWith(SESSION)) {
        const id = key.slice(SESSION.length);
        yield { kind: 'session', id, expiresAtMs: expiryOf(entry), createdAtMs: nowMs };
      } else {
        yield { kind: 'token', id: key, expiresAtMs: expiryOf(entry), createdAtMs: nowMs };
      }
    }
  }

  private schedulePurge(key: string, expiresAtMs: Milliseconds): void {
    if (this.slots >= 2 * this.scheduled + MIN_SLOTS_TO_COMPACT) this.compact(key);
    const bucket = bucketOf(expiresAtMs);
    const keys = this.buckets.get(bucket);
    if (keys === undefined) this.buckets.set(bucket, [key]);
    else keys.push(key);
    this.scheduled++;
    this.slots++;
  }

  private unschedulePurge(expiresAtMs: Milliseconds): void {
    // The slot stays until its bucket is purged or compacted; only a purged bucket has none.
    if (this.buckets.has(bucketOf(expiresAtMs))) this.scheduled--;
  }

  /**
   * Drops stale slots: keeps one slot per key whose entry expires in that bucket, except
   * `scheduling`, the key about to get its slot (any slot it has now is stale).
   */
  private compact(scheduling: string): void {
    let slots = 0;
    for (const [bucket, keys] of this.buckets) {
      const kept = new Set<string>();
      for (const key of keys) {
        if (key === scheduling || kept.has(key)) continue;
        const entry = this.lru.peek(key);
        if (entry !== undefined && bucketOf(expiryOf(entry)) === bucket) kept.add(key);
      }
      if (kept.size === 0) this.buckets.delete(bucket);
      else this.buckets.set(bucket, [...kept]);
      slots += kept.size;
    }
    this.slots = slots;
    this.scheduled = slots;
  }
}
