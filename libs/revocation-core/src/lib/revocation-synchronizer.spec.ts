import { type Clock } from './clock';
import {
  type LogEntry,
  type LogPosition,
  type Revocation,
  type RevocationEvent,
  type SessionRevocation,
  type StoreHead,
  type TokenRevocation,
  type UserRevocation,
} from './revocation';
import { RevocationCache } from './revocation-cache';
import { type RevocationSource } from './revocation-source';
import { RevocationSynchronizer } from './revocation-synchronizer';
import { RevocationVerdict } from './revocation-verdict';
import { type NotBeforeCause, type ResyncCause, type SyncObserver } from './sync-observer';

const NOW = 1_700_000_000_000;
const HOUR = 3_600_000;
const MAX_STALENESS_MS = 5_000;

class FakeClock implements Clock {
  constructor(public ms: number = NOW) {}

  now(): number {
    return this.ms;
  }

  advance(ms: number): void {
    this.ms += ms;
  }
}

type SourceMethod = 'readHead' | 'snapshot' | 'readAfter' | 'restore' | 'raiseNotBefore';

/** A call to a source method held at its start until the test releases it. */
interface HeldCall {
  /** Resolves once the call has been made (and answered by the store). */
  readonly reached: Promise<void>;
  release(): void;
}

function logIdOrder(logId: string): [number, number] {
  const [ms, seq] = logId.split('-').map(Number);
  return [ms ?? 0, seq ?? 0];
}

function isAfter(a: string, b: string): boolean {
  const [am, as] = logIdOrder(a);
  const [bm, bs] = logIdOrder(b);
  return am > bm || (am === bm && as > bs);
}

/**
 * An in-memory implementation of the port with the semantics of the Redis store: a gap-free,
 * trimmable log tagged with an epoch and a not-before; a set of live revocations for snapshots;
 * `restore` that logs what the store does not cover. Not a mock: it answers from its own state.
 */
class InMemoryRevocationSource implements RevocationSource {
  epoch = 'epoch-1';
  seq = 0;
  notBeforeMs = 0;
  log: LogEntry[] = [];
  readonly live = new Map<string, Revocation>();
  readonly calls: SourceMethod[] = [];
  readonly restoreBatches: Revocation[][] = [];
  /** When set, every call fails with it (the store is unreachable). */
  failure: Error | null = null;
  /** Revocations per snapshot page. */
  snapshotPageSize = 2;
  /**
   * Runs inside `snapshot` after it read the live set and before it hands out pages: what it
   * revokes is missed by that snapshot, like a member `ZSCAN` had already passed.
   */
  duringSnapshot: (() => void) | null = null;

  private streamMs = 1;
  /** The stream's last generated id, which trimming does not change. */
  private lastId = '0-0';
  private readonly nextIds: string[] = [];
  private epochs = 1;
  private readonly holds = new Map<SourceMethod, { reached(): void; released: Promise<void> }>();

  constructor(private readonly clock: Clock) {}

  /** Records a revocation as the store would, returning the logged event (`null`: nothing to do). */
  revoke(revocation: Revocation): RevocationEvent | null {
    const now = this.clock.now();
    if (revocation.expiresAtMs <= now) return null;
    const key = `${revocation.kind}:${revocation.id}`;
    const prev = this.live.get(key);
    if (prev !== undefined && prev.expiresAtMs > now) {
      if (revocation.kind === 'token') return null;
      if (revocation.kind === 'session') {
        // Idempotent; a later expiry extends it.
        if (prev.expiresAtMs >= revocation.expiresAtMs) return null;
      } else if (prev.kind === 'user' && prev.cutoffMs >= revocation.cutoffMs) return null;
    }
    this.live.set(key, revocation);
    this.seq++;
    const event: RevocationEvent = {
      ...revocation,
      epoch: this.epoch,
      seq: this.seq,
      logId: this.nextIds.shift() ?? `${this.streamMs++}-0`,
      prevLogId: this.lastId,
    };
    this.lastId = event.logId;
    this.log.push(event);
    return event;
  }

  /** Appends an entry no build can read, as a bad writer or a newer build might. */
  appendUnreadable(seq?: number, prevLogId?: string): void {
    const logId = `${this.streamMs++}-0`;
    if (seq !== undefined) this.seq = seq;
    this.log.push(
      seq === undefined
        ? { kind: 'unreadable', logId, reason: 'garbage' }
        : prevLogId === undefined
          ? { kind: 'unreadable', logId, seq, reason: 'unknown kind' }
          : { kind: 'unreadable', logId, seq, prevLogId, reason: 'unknown kind' },
    );
    this.lastId = logId;
  }

  /** Drops the oldest `count` log entries, as `XTRIM` would. */
  trimLog(count = this.log.length): void {
    this.log.splice(0, count);
  }

  /** The store comes back empty, with a new identity (restart without persistence). */
  reset(): void {
    this.epoch = `epoch-${++this.epochs}`;
    this.notBeforeMs = this.clock.now() + 1000;
    this.seq = 0;
    this.log = [];
    this.live.clear();
  }

  /** The store loses its latest writes but keeps its identity (failover to a stale replica). */
  rollBackTo(seq: number): void {
    for (const event of this.log.filter((e) => (e.seq ?? 0) > seq)) {
      if (event.kind !== 'unreadable') this.live.delete(`${event.kind}:${event.id}`);
    }
    this.log = this.log.filter((e) => (e.seq ?? 0) <= seq);
    this.seq = seq;
  }

  /**
   * A failover: the promoted node has the log up to `seq`, not what the old master appended
   * after it, and gives its next entries `nextIds` (which may sort before the dropped ones, as
   * when both nodes took writes in the same instant).
   */
  failOver(seq: number, nextIds: readonly string[]): void {
    this.rollBackTo(seq);
    this.lastId = this.log.at(-1)?.logId ?? '0-0';
    this.nextIds.push(...nextIds);
  }

  /** Holds the reply to the next call of `method` until released. */
  hold(method: SourceMethod): HeldCall {
    let reached!: () => void;
    let release!: () => void;
    const reachedPromise = new Promise<void>((resolve) => (reached = resolve));
    const released = new Promise<void>((resolve) => (release = resolve));
    this.holds.set(method, { reached, released });
    return { reached: reachedPromise, release };
  }

  count(method: SourceMethod): number {
    return this.calls.filter((c) => c === method).length;
  }

  async readHead(): Promise<StoreHead> {
    const head = {
      epoch: this.epoch,
      seq: this.seq,
      logId: this.lastId,
      notBeforeMs: this.notBeforeMs,
    };
    return this.reply('readHead', head);
  }

  async snapshot(onPage: (page: readonly Revocation[]) => void): Promise<void> {
    const now = this.clock.now();
    const all = [...this.live.values()].filter((r) => r.expiresAtMs > now);
    this.duringSnapshot?.();
    await this.reply('snapshot', undefined);
    for (let i = 0; i < all.length; i += this.snapshotPageSize) {
      onPage(all.slice(i, i + this.snapshotPageSize));
      await Promise.resolve();
    }
  }

  async readAfter(logId: string, limit: number): Promise<LogEntry[]> {
    const entries = this.log.filter((e) => isAfter(e.logId, logId)).slice(0, limit);
    return this.reply('readAfter', entries);
  }

  async restore(revocations: readonly Revocation[]): Promise<void> {
    await this.reply('restore', undefined);
    this.restoreBatches.push([...revocations]);
    for (const revocation of revocations) this.revoke(revocation);
  }

  async raiseNotBefore(notBeforeMs: number): Promise<void> {
    await this.reply('raiseNotBefore', undefined);
    this.notBeforeMs = Math.max(this.notBeforeMs, notBeforeMs);
  }

  /**
   * Answers a call whose result the store computed when the call was made; a held call models
   * a reply still in flight.
   */
  private async reply<T>(method: SourceMethod, result: T): Promise<T> {
    this.calls.push(method);
    const hold = this.holds.get(method);
    if (hold !== undefined) {
      this.holds.delete(method);
      hold.reached();
      await hold.released;
    }
    await Promise.resolve();
    if (this.failure !== null) throw this.failure;
    return result;
  }
}

class RecordingObserver implements SyncObserver {
  readonly applied: { event: RevocationEvent; lagMs: number }[] = [];
  readonly malformed: string[] = [];
  readonly resyncs: [ResyncCause, number][] = [];
  readonly errors: unknown[] = [];
  readonly notBefore: [number, NotBeforeCause][] = [];
  readonly positions: number[] = [];

  onPosition(position: LogPosition): void {
    this.positions.push(position.seq);
  }

  onNotBefore(notBeforeMs: number, cause: NotBeforeCause): void {
    this.notBefore.push([notBeforeMs, cause]);
  }

  onApplied(event: RevocationEvent, lagMs: number): void {
    this.applied.push({ event, lagMs });
  }

  onMalformed(reason: string): void {
    this.malformed.push(reason);
  }

  onResync(cause: ResyncCause, applied: number): void {
    this.resyncs.push([cause, applied]);
  }

  onSyncError(error: unknown): void {
    this.errors.push(error);
  }

  causes(): ResyncCause[] {
    return this.resyncs.map(([cause]) => cause);
  }
}

function token(id: string, lifetimeMs = HOUR): TokenRevocation {
  return { kind: 'token', id, expiresAtMs: NOW + lifetimeMs, createdAtMs: NOW };
}

function user(id: string, cutoffMs: number, lifetimeMs = HOUR): UserRevocation {
  return { kind: 'user', id, cutoffMs, expiresAtMs: NOW + lifetimeMs, createdAtMs: NOW };
}

function session(id: string, lifetimeMs = HOUR): SessionRevocation {
  return { kind: 'session', id, expiresAtMs: NOW + lifetimeMs, createdAtMs: NOW };
}

/** The event as it travels on the channel (wire format v1). */
function wire(event: RevocationEvent | null): unknown {
  if (event === null) throw new Error('the fake store recorded nothing');
  return JSON.parse(JSON.stringify({ v: 1, ...event }));
}

/** Lets fire-and-forget rounds run; the fake source never waits on real I/O. */
async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1_000; i++) {
    if (condition()) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error(`timed out waiting until ${what}`);
}

/** Lets any round that a message might have started run to its end. */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** One more replica on the same store and clock. */
function setUpReplica(
  source: InMemoryRevocationSource,
  clock: FakeClock,
  options: { maxEntries?: number } = {},
) {
  const cache = new RevocationCache({ maxEntries: options.maxEntries ?? 10_000 });
  const observer = new RecordingObserver();
  const sync = new RevocationSynchronizer(cache, source, { clock, observer });
  return {
    cache,
    observer,
    sync,
    revoked(jti: string, sub = 'nobody', iatMs = NOW - 1): boolean {
      return cache.check({ jti, sub, iatMs }, clock.now()) === RevocationVerdict.Revoked;
    },
  };
}

/** A replica that holds `token:a`, alice's cut-off (both hydrated) and `token:b` (live). */
async function withHeldRevocations(options: { catchUpPageSize?: number } = {}) {
  const context = setUp(options);
  const { sync, source } = context;
  source.revoke(token('a'));
  source.revoke(user('alice', NOW - 5));
  await sync.onSubscribed();
  sync.onMessage(wire(source.revoke(token('b'))));
  return context;
}

/**
 * Subscribes with the catch-up held at its head read: not ready while it is held, ready once it
 * has been let through and has finished.
 */
async function expectReadyOnlyOnceCaughtUp(
  sync: RevocationSynchronizer,
  source: InMemoryRevocationSource,
): Promise<void> {
  const catchUp = source.hold('readHead');
  const subscribed = sync.onSubscribed();
  await catchUp.reached;
  expect(sync.isReady()).toBe(false);
  catchUp.release();
  await subscribed;
  expect(sync.isReady()).toBe(true);
}

function setUp(options: { catchUpPageSize?: number } = {}) {
  const clock = new FakeClock();
  const source = new InMemoryRevocationSource(clock);
  const cache = new RevocationCache({ maxEntries: 10_000 });
  const observer = new RecordingObserver();
  const sync = new RevocationSynchronizer(cache, source, {
    clock,
    observer,
    maxStalenessMs: MAX_STALENESS_MS,
    catchUpPageSize: options.catchUpPageSize ?? 1_000,
  });
  return {
    clock,
    source,
    cache,
    observer,
    sync,
    /** Whether the local cache rejects the token with this `jti`. */
    revoked(jti: string, sub = 'nobody', iatMs = NOW - 1): boolean {
      return cache.check({ jti, sub, iatMs }, clock.now()) === RevocationVerdict.Revoked;
    },
  };
}

describe('RevocationSynchronizer', () => {
  describe('when it starts', () => {
    it('is neither hydrated nor ready, and counts as stale', () => {
      const { sync } = setUp();
      expect(sync.hydrated).toBe(false);
      expect(sync.isReady()).toBe(false);
      expect(sync.isStale()).toBe(true);
      expect(sync.state).toMatchObject({ hydrated: false, subscribed: false, position: null });
    });

    it('reads the head of the log before taking the snapshot', async () => {
      const { sync, source } = setUp();
      source.revoke(token('a'));
      await sync.onSubscribed();
      expect(source.calls.slice(0, 2)).toEqual(['readHead', 'snapshot']);
    });

    it('hydrates from the snapshot and reports the startup', async () => {
      const { sync, source, observer, revoked } = setUp();
      source.revoke(token('a'));
      source.revoke(token('b'));
      source.revoke(user('alice', NOW - 10));
      await sync.onSubscribed();
      expect(revoked('a')).toBe(true);
      expect(revoked('b')).toBe(true);
      expect(revoked('x', 'alice', NOW - 10)).toBe(true);
      expect(revoked('x', 'alice', NOW - 9)).toBe(false);
      expect(observer.resyncs[0]).toEqual(['startup', 3]);
      expect(sync.state.position).toEqual({ epoch: 'epoch-1', seq: 3, logId: '3-0' });
    });

    it('catches up on revocations logged between reading the head and the snapshot', async () => {
      const { sync, source, revoked } = setUp();
      source.revoke(token('before'));
      const head = source.hold('readHead');
      const started = sync.onSubscribed();
      await head.reached;
      // Logged after the head was read; their messages are lost.
      source.revoke(token('in-snapshot'));
      source.duringSnapshot = () => {
        source.revoke(token('missed-by-snapshot'));
      };
      head.release();
      await started;

      expect(revoked('before')).toBe(true);
      expect(revoked('in-snapshot')).toBe(true);
      expect(revoked('missed-by-snapshot')).toBe(true);
      expect(sync.state.position?.seq).toBe(3);
      expect(sync.isReady()).toBe(true);
    });

    it('is not ready while only hydrated, before it is subscribed', async () => {
      const { sync, source } = setUp();
      source.revoke(token('a'));
      await sync.sync('startup');
      expect(sync.hydrated).toBe(true);
      expect(sync.state.caughtUp).toBe(false);
      expect(sync.isReady()).toBe(false);

      await sync.onSubscribed();
      expect(sync.isReady()).toBe(true);
    });

    it('is not ready until it caught up after subscribing', async () => {
      const { sync, source } = setUp();
      await sync.sync('startup');
      await expectReadyOnlyOnceCaughtUp(sync, source);
    });

    it('is not ready before it caught up from the head it hydrated at', async () => {
      const { sync, source, revoked } = setUp();
      let catchUp: HeldCall | undefined;
      source.duringSnapshot = () => {
        source.revoke(token('missed-by-snapshot')); // and its message is lost
        catchUp = source.hold('readHead');
      };
      const started = sync.onSubscribed();
      await until(() => catchUp !== undefined, 'the snapshot was read');
      await catchUp?.reached;

      // Hydrated and subscribed, but this revocation is still only in the log.
      expect(revoked('missed-by-snapshot')).toBe(false);
      expect(sync.isReady()).toBe(false);

      catchUp?.release();
      await started;
      expect(revoked('missed-by-snapshot')).toBe(true);
      expect(sync.isReady()).toBe(true);
    });

    it('applies events that arrive while it hydrates', async () => {
      const { sync, source, revoked } = setUp();
      const snapshot = source.hold('snapshot');
      const started = sync.onSubscribed();
      await snapshot.reached;
      sync.onMessage(wire(source.revoke(token('live'))));
      snapshot.release();
      await started;
      expect(revoked('live')).toBe(true);
      expect(sync.state.position?.seq).toBe(1);
    });
  });

  describe('when live events arrive', () => {
    async function started(options: { catchUpPageSize?: number } = {}) {
      const context = setUp(options);
      await context.sync.onSubscribed();
      context.source.calls.length = 0;
      return context;
    }

    it('applies a token revocation and moves its position', async () => {
      const { sync, source, observer, clock, revoked } = await started();
      clock.advance(25);
      const event = source.revoke(token('a'));
      sync.onMessage(wire(event));
      expect(revoked('a')).toBe(true);
      expect(revoked('b')).toBe(false);
      expect(observer.applied).toEqual([{ event, lagMs: 25 }]);
      expect(sync.state.position).toEqual({ epoch: 'epoch-1', seq: 1, logId: event?.logId });
      expect(source.calls).toEqual([]);
    });

    it('applies a user cut-off', async () => {
      const { sync, source, revoked } = await started();
      sync.onMessage(wire(source.revoke(user('alice', NOW))));
      expect(revoked('x', 'alice', NOW)).toBe(true);
      expect(revoked('x', 'alice', NOW + 1)).toBe(false);
    });

    it('applies the end of a session to every token of that session', async () => {
      const { sync, source, cache, clock } = await started();
      sync.onMessage(wire(source.revoke(session('sid-1'))));
      const check = (sid: string | undefined, jti: string) =>
        cache.check(
          sid === undefined ? { jti, sub: 'u', iatMs: NOW } : { jti, sub: 'u', sid, iatMs: NOW },
          clock.now(),
        );
      expect(check('sid-1', 'any')).toBe(RevocationVerdict.Revoked);
      expect(check('sid-2', 'any')).toBe(RevocationVerdict.Accepted);
      expect(check(undefined, 'sid-1')).toBe(RevocationVerdict.Accepted);
      expect(sync.state.position?.seq).toBe(1);
    });

    it('treats duplicates as no-ops', async () => {
      const { sync, source, cache, observer } = await started();
      const first = wire(source.revoke(token('a')));
      const second = wire(source.revoke(user('alice', NOW)));
      for (const message of [first, first, second, first, second]) sync.onMessage(message);

      expect(cache.size).toBe(2);
      expect(observer.applied).toHaveLength(2);
      expect(sync.state.position?.seq).toBe(2);
      expect(source.calls).toEqual([]);
    });

    it('ends in the same state whatever order events arrive in', async () => {
      const { sync, source, cache, revoked } = await started();
      const events = [token('a'), token('b'), user('alice', NOW), token('c')].map((r) =>
        wire(source.revoke(r)),
      );
      for (const message of [...events].reverse()) sync.onMessage(message);
      await until(
        () => sync.state.position?.seq === 4 && source.count('readAfter') > 0,
        'caught up',
      );

      expect(cache.size).toBe(4);
      for (const jti of ['a', 'b', 'c']) expect(revoked(jti)).toBe(true);
      expect(revoked('x', 'alice', NOW)).toBe(true);
    });

    it('fills a gap in sequence numbers from the log', async () => {
      const { sync, source, observer, revoked } = await started();
      source.revoke(token('lost-1'));
      source.revoke(token('lost-2'));
      sync.onMessage(wire(source.revoke(token('third'))));
      await until(() => observer.causes().includes('gap'), 'a gap was caught up');

      expect(revoked('lost-1')).toBe(true);
      expect(revoked('lost-2')).toBe(true);
      expect(observer.resyncs).toContainEqual(['gap', 2]);
      expect(sync.state.position?.seq).toBe(3);
      expect(source.count('snapshot')).toBe(0);
    });

    it('catches up through the log a page at a time', async () => {
      const { sync, source, revoked } = await started({ catchUpPageSize: 2 });
      for (let i = 1; i <= 7; i++) source.revoke(token(`lost-${i}`));
      await sync.tick();

      for (let i = 1; i <= 7; i++) expect(revoked(`lost-${i}`)).toBe(true);
      expect(source.count('readAfter')).toBe(4);
      expect(sync.state.position?.seq).toBe(7);
    });

    it('reports every move of its applied position: hydration, live events, catch-up pages', async () => {
      const { sync, source, observer } = setUp({ catchUpPageSize: 2 });
      source.revoke(token('held'));
      await sync.onSubscribed();
      expect(observer.positions).toEqual([1]);
      sync.onMessage(wire(source.revoke(token('live'))));
      sync.applyLocal(source.revoke(token('mine')) as RevocationEvent);
      for (let i = 1; i <= 3; i++) source.revoke(token(`missed-${i}`));
      await sync.tick();
      // One report per page of the catch-up, not one per entry.
      expect(observer.positions).toEqual([1, 2, 3, 5, 6]);
      // A duplicate moves nothing and reports nothing.
      sync.onMessage(wire(source.log[1] as RevocationEvent));
      expect(observer.positions).toEqual([1, 2, 3, 5, 6]);
    });

    it('applies its own revocations at once, with no round trip (read your revocation)', async () => {
      const { sync, source, revoked } = await started();
      sync.applyLocal(source.revoke(token('mine')) as RevocationEvent);
      expect(revoked('mine')).toBe(true);
      expect(sync.state.position?.seq).toBe(1);
      expect(source.calls).toEqual([]);
    });
  });

  describe('when a message is malformed', () => {
    const valid = {
      v: 1,
      epoch: 'epoch-1',
      seq: 1,
      logId: '1-0',
      kind: 'token',
      id: 'a',
      expiresAtMs: NOW + HOUR,
      createdAtMs: NOW,
    };

    it.each<[string, unknown]>([
      ['a string', 'not an event'],
      ['null', null],
      ['an array', [valid]],
      ['an id with a space', { ...valid, id: 'a b' }],
      ['seq 0', { ...valid, seq: 0 }],
      ['version 0', { ...valid, v: 0 }],
      ['an unknown kind', { ...valid, kind: 'device' }],
      ['an epoch that is not one', { ...valid, epoch: 'x"y' }],
    ])('reports %s to the observer and changes nothing', async (_what, message) => {
      const { sync, source, cache, observer } = setUp();
      await sync.onSubscribed();
      const before = sync.state;
      source.calls.length = 0;

      sync.onMessage(message);
      await settle();

      expect(observer.malformed).toHaveLength(1);
      expect(observer.malformed[0]).toMatch(/^Malformed revocation event: /);
      expect(observer.applied).toEqual([]);
      expect(cache.size).toBe(0);
      expect(sync.state).toEqual(before);
      expect(source.calls).toEqual([]);
    });
  });

  describe('when the log was trimmed past its position', () => {
    it('re-hydrates from the snapshot instead of skipping what was trimmed', async () => {
      const { sync, source, observer, revoked } = setUp();
      await sync.onSubscribed();
      source.revoke(token('trimmed-1'));
      source.revoke(token('trimmed-2'));
      source.revoke(token('still-logged'));
      source.trimLog(2);

      await sync.tick();

      expect(observer.causes()).toContain('log-trimmed');
      for (const jti of ['trimmed-1', 'trimmed-2', 'still-logged']) expect(revoked(jti)).toBe(true);
      expect(sync.state.position?.seq).toBe(3);
      expect(source.count('snapshot')).toBe(2);
      expect(sync.isReady()).toBe(true);
    });

    it('re-hydrates when the whole log is gone', async () => {
      const { sync, source, observer, revoked } = setUp();
      await sync.onSubscribed();
      source.revoke(token('trimmed'));
      source.trimLog();

      await sync.tick();

      expect(observer.causes()).toContain('log-trimmed');
      expect(revoked('trimmed')).toBe(true);
    });

    it('catches up incrementally when only entries it already applied were trimmed', async () => {
      const { sync, source, observer, revoked } = setUp();
      await sync.onSubscribed();
      sync.onMessage(wire(source.revoke(token('applied'))));
      source.revoke(token('lost'));
      source.trimLog(1);

      await sync.tick();

      expect(revoked('lost')).toBe(true);
      expect(observer.causes()).not.toContain('log-trimmed');
      expect(source.count('snapshot')).toBe(1);
    });
  });

  describe('when the store lost its data', () => {
    it('rejects every token issued before the new data set, and writes nothing back', async () => {
      const { sync, source, observer, clock, cache, revoked } = await withHeldRevocations();
      clock.advance(10);
      source.reset(); // not-before: the reset plus the tolerated skew
      source.revoke(token('after-reset')); // its message is lost
      clock.advance(1_000);

      await sync.tick();

      expect(observer.causes()).toContain('store-reset');
      expect(source.restoreBatches).toEqual([]);
      expect(cache.notBeforeMs).toBe(source.notBeforeMs);
      expect(sync.state.position).toMatchObject({ epoch: 'epoch-2', seq: 1 });
      expect(revoked('after-reset')).toBe(true);
      expect(revoked('a')).toBe(true);
      expect(revoked('never-revoked', 'bob', NOW + 500)).toBe(true);
      expect(revoked('signed-after', 'bob', source.notBeforeMs + 1)).toBe(false);
      expect(observer.notBefore).toEqual([[source.notBeforeMs, 'store']]);
    });

    it('is ready only once the not-before is a whole second behind its clock', async () => {
      const { sync, source, clock } = await withHeldRevocations();
      source.reset();
      await sync.tick();
      await sync.tick(); // the catch-up a re-hydration owes

      expect(sync.isReady(source.notBeforeMs + 1000)).toBe(false);
      expect(sync.isReady(source.notBeforeMs + 1001)).toBe(true);
      clock.advance(2_001);
      await sync.tick();
      expect(sync.isReady()).toBe(true);
    });

    it('is rejected by a replica that first hydrated from the empty store', async () => {
      // Replica a held `a`, `b` and alice's cut-off; the store came back empty and replica c
      // started from it before a was heard from again.
      const { source, clock } = await withHeldRevocations();
      source.reset();
      const c = setUpReplica(source, clock);
      await c.sync.onSubscribed();
      await c.sync.tick();

      expect(c.sync.isReady(source.notBeforeMs + 1001)).toBe(true);
      expect(c.revoked('a', 'mallory', NOW - 1)).toBe(true);
      expect(c.revoked('b', 'mallory', NOW - 1)).toBe(true);
      expect(c.revoked('fresh', 'alice', NOW - 5)).toBe(true);
      expect(c.observer.notBefore).toEqual([[source.notBeforeMs, 'startup']]);
    });

    it('notices a new epoch on a live event', async () => {
      const { sync, source, observer, revoked } = await withHeldRevocations();
      source.reset();
      sync.onMessage(wire(source.revoke(token('after-reset'))));
      await until(() => observer.causes().includes('store-reset'), 'the reset was handled');

      expect(revoked('after-reset')).toBe(true);
      expect(revoked('a')).toBe(true);
      expect(sync.state.position?.epoch).toBe('epoch-2');
    });

    it('does not mistake a live event that overtook the head reply for a reset', async () => {
      const { sync, source, observer } = setUp();
      await sync.onSubscribed();
      sync.onMessage(wire(source.revoke(token('a'))));
      const round = source.hold('readHead');
      const tick = sync.tick();
      await round.reached; // the store answered with seq 1; the reply is still in flight
      sync.onMessage(wire(source.revoke(token('b')))); // seq 2, on the subscriber connection
      round.release();
      await tick;

      expect(observer.causes()).not.toContain('store-reset');
      expect(source.restoreBatches).toEqual([]);
      expect(source.count('snapshot')).toBe(1);
      expect(sync.state.position?.seq).toBe(2);
    });
  });

  describe('when the log went backwards under the same epoch (a failover lost writes)', () => {
    it('writes back what the store lost, logged, then re-hydrates', async () => {
      const { sync, source, observer } = await withHeldRevocations();
      source.rollBackTo(1); // `user:alice` and `token:b` are lost
      await sync.tick();

      expect(observer.causes()).toContain('store-reset');
      expect(source.live.has('token:b')).toBe(true);
      expect(source.live.has('user:alice')).toBe(true);
      const logged = source.log.map((e) => (e.kind === 'unreadable' ? '?' : `${e.kind}:${e.id}`));
      expect(logged.sort()).toEqual(['token:a', 'token:b', 'user:alice']);
      expect(source.notBeforeMs).toBe(0);
    });

    it('writes back a lost session end too, and a new replica hears of it', async () => {
      const { sync, source, clock } = setUp();
      source.revoke(token('a'));
      await sync.onSubscribed();
      sync.onMessage(wire(source.revoke(session('sid-1'))));
      source.rollBackTo(1); // `session:sid-1` is lost
      await sync.tick();

      expect(source.live.get('session:sid-1')).toMatchObject({ kind: 'session', id: 'sid-1' });
      const c = setUpReplica(source, clock);
      await c.sync.onSubscribed();
      const claims = { jti: 'x', sub: 'u', sid: 'sid-1', iatMs: NOW };
      expect(c.cache.check(claims, clock.now())).toBe(RevocationVerdict.Revoked);
    });

    it('is heard of by a replica that hydrated from the store that lost it', async () => {
      const { sync, source, clock } = await withHeldRevocations();
      source.rollBackTo(1);
      const c = setUpReplica(source, clock);
      await c.sync.onSubscribed();
      expect(c.revoked('b')).toBe(false);

      await sync.tick(); // a notices the divergence and writes back
      await c.sync.tick(); // c's next round finds it in the log

      expect(c.revoked('b')).toBe(true);
      expect(c.revoked('fresh', 'alice', NOW - 5)).toBe(true);
    });

    it('fails safe with a store-wide not-before when its cache evicted live entries', async () => {
      const clock = new FakeClock();
      const source = new InMemoryRevocationSource(clock);
      const a = setUpReplica(source, clock, { maxEntries: 2 });
      await a.sync.onSubscribed();
      for (const jti of ['t1', 't2', 't3', 't4', 't5']) {
        a.sync.applyLocal(source.revoke(token(jti)) as RevocationEvent);
      }
      expect(a.cache.isComplete(clock.now())).toBe(false);
      source.rollBackTo(1); // t2..t5 lost; a holds only t4 and t5
      clock.advance(10);

      await a.sync.tick();

      expect(source.notBeforeMs).toBe(clock.now() + 500);
      expect(a.observer.notBefore).toEqual([[clock.now() + 500, 'incomplete-write-back']]);
      const c = setUpReplica(source, clock);
      await c.sync.onSubscribed();
      for (const jti of ['t1', 't2', 't3', 't4', 't5']) expect(c.revoked(jti)).toBe(true);
    });

    it('writes back in batches of the catch-up page size', async () => {
      const { sync, source } = await withHeldRevocations({ catchUpPageSize: 2 });
      sync.onMessage(wire(source.revoke(token('c'))));
      sync.onMessage(wire(source.revoke(token('d'))));
      source.rollBackTo(0);
      await sync.tick();
      expect(source.restoreBatches.map((batch) => batch.length)).toEqual([2, 2, 1]);
    });

    it('writes back every held revocation while requests keep being checked', async () => {
      const { sync, source, cache, clock } = setUp({ catchUpPageSize: 2 });
      source.revoke(user('alice', NOW - 5));
      for (const jti of ['a', 'b', 'c', 'd']) source.revoke(token(jti));
      await sync.onSubscribed();
      source.rollBackTo(0);

      const firstBatch = source.hold('restore');
      const tick = sync.tick();
      await firstBatch.reached;
      // Alice (cut off) and the holder of revoked token `a` keep calling while the first batch
      // is written; the guard checks their tokens against the cache.
      cache.check({ jti: 'fresh', sub: 'alice', iatMs: NOW + 1 }, clock.now());
      cache.check({ jti: 'a', sub: 'mallory', iatMs: NOW - 1 }, clock.now());
      firstBatch.release();
      await tick;

      const restored = new Set(source.restoreBatches.flat().map((r) => `${r.kind}:${r.id}`));
      expect([...restored].sort()).toEqual([
        'token:a',
        'token:b',
        'token:c',
        'token:d',
        'user:alice',
      ]);
      expect(source.live.has('user:alice')).toBe(true);
    });

    it('does not write back revocations that have expired', async () => {
      const { sync, source, clock } = setUp();
      source.revoke(token('short', 1_000));
      source.revoke(token('long'));
      await sync.onSubscribed();
      source.rollBackTo(0);
      clock.advance(1_000);
      await sync.tick();
      expect(source.restoreBatches.flat().map((r) => r.id)).toEqual(['long']);
    });
  });

  describe('when the log holds an entry this build cannot read', () => {
    it('steps over garbage and keeps catching up, counting it', async () => {
      const { sync, source, observer, revoked } = setUp();
      await sync.onSubscribed();
      source.revoke(token('a'));
      source.appendUnreadable();
      source.revoke(token('b'));

      await sync.tick();

      expect(revoked('a')).toBe(true);
      expect(revoked('b')).toBe(true);
      expect(observer.malformed).toEqual([expect.stringMatching(/^unreadable log entry 2-0/)]);
      expect(sync.state.position?.seq).toBe(2);
      expect(sync.isReady()).toBe(true);
    });

    it('lets an entry of a newer build fill its sequence number', async () => {
      const { sync, source, observer, revoked } = setUp();
      await sync.onSubscribed();
      source.appendUnreadable(1);
      source.revoke(token('b'));

      await sync.tick();

      expect(revoked('b')).toBe(true);
      expect(observer.malformed).toHaveLength(1);
      expect(observer.causes()).not.toContain('log-trimmed');
      expect(sync.state.position?.seq).toBe(2);
      expect(sync.isReady()).toBe(true);
    });
  });

  describe('when a failover promoted a node that missed its last events', () => {
    // `a` (1-0) and `b` (2-0) reached both nodes. The old master then logged `old` as seq 3
    // (3-0) and published it; the promoted node never got it, and logs `y` as seq 3 and `z` as
    // seq 4 under ids of its own. The replica applied `old` live.
    async function afterFailover(ids: readonly string[]) {
      const context = setUp();
      const { sync, source } = context;
      source.revoke(token('a'));
      source.revoke(token('b'));
      await sync.onSubscribed();
      sync.onMessage(wire(source.revoke(token('old'))));
      source.failOver(2, ids);
      const y = source.revoke(token('y')) as RevocationEvent;
      const z = source.revoke(token('z')) as RevocationEvent;
      return { ...context, y, z };
    }

    it('does not take the next number on another history as its next event', async () => {
      const { sync, source, observer, revoked, z } = await afterFailover(['2-1', '4-0']);
      sync.onMessage(wire(z)); // seq 4, right after its seq 3, but appended after `y`
      await until(() => observer.causes().includes('store-reset'), 'the divergence was noticed');
      await settle();

      expect(revoked('y')).toBe(true);
      expect(revoked('z')).toBe(true);
      // What only the old master had is written back, so that the store holds it again.
      expect(source.live.has('token:old')).toBe(true);
      // ...and logged after `z`, so that every replica hears of it.
      expect(sync.state.position?.seq).toBe(5);
    });

    it('notices it in a catch-up whose next entry follows another one than its own', async () => {
      const { sync, source, observer, revoked } = await afterFailover(['2-1', '4-0']);
      await sync.tick(); // `y` sorts before `old`, so the catch-up reads `z` first
      await settle();

      expect(observer.causes()).toContain('store-reset');
      expect(revoked('y')).toBe(true);
      expect(revoked('z')).toBe(true);
      expect(source.live.has('token:old')).toBe(true);
    });

    it('notices it when its next entry, of a newer build, follows another one', async () => {
      // Found by libs/revocation-sim: the promoted node's clock was behind, so `y` sorts before
      // `old`, and the only entry after `old` is one this build cannot read, numbered 4.
      const context = setUp();
      const { sync, source, observer, revoked } = context;
      source.revoke(token('a'));
      source.revoke(token('b'));
      await sync.onSubscribed();
      sync.onMessage(wire(source.revoke(token('old'))));
      source.failOver(2, ['2-1']);
      const y = source.revoke(token('y')) as RevocationEvent;
      source.appendUnreadable(4, y.logId);

      await sync.tick();
      await settle();

      expect(observer.causes()).toContain('store-reset');
      expect(revoked('y')).toBe(true);
      expect(source.live.has('token:old')).toBe(true);
    });

    it('notices it when the whole new history sorts before its position', async () => {
      const { sync, source, observer, revoked } = await afterFailover(['2-1', '2-2']);
      await sync.tick(); // nothing after `old` in the log, yet the head is further on
      await settle();

      expect(observer.causes()).toContain('store-reset');
      expect(revoked('y')).toBe(true);
      expect(revoked('z')).toBe(true);
      expect(source.live.has('token:old')).toBe(true);
    });
  });

  describe('when a failover loses a revocation this replica wrote ahead of its position', () => {
    // Another replica's revocation (seq 1) has not reached this one yet when it writes its own
    // (seq 2): it applies it, but its position stays at 0. A failover then loses both.
    async function wroteAhead() {
      const context = setUp();
      const { sync, source } = context;
      await sync.onSubscribed();
      source.revoke(token('other')); // its message is still on the way
      sync.applyLocal(source.revoke(token('mine')) as RevocationEvent);
      return context;
    }

    it('notices the head below its own write and writes it back', async () => {
      const { sync, source, observer } = await wroteAhead();
      source.failOver(0, []);
      await sync.tick();

      expect(observer.causes()).toContain('store-reset');
      expect(source.live.has('token:mine')).toBe(true);
    });

    it('notices another entry logged under its number', async () => {
      const { sync, source, observer, revoked } = await wroteAhead();
      source.failOver(0, ['5-0', '6-0']);
      source.revoke(token('y'));
      source.revoke(token('z')); // seq 2, like `mine`, on the new history
      await sync.tick();
      await settle();

      expect(observer.causes()).toContain('store-reset');
      expect(source.live.has('token:mine')).toBe(true);
      expect(revoked('z')).toBe(true);
    });

    it('does not take a forged message far ahead for its own write', async () => {
      const { sync, source, observer } = setUp();
      await sync.onSubscribed();
      const real = source.revoke(token('a')) as RevocationEvent;
      sync.onMessage(wire({ ...real, seq: 1_000, logId: '999-0', id: 'forged' }));
      await sync.tick();
      await settle();

      expect(observer.causes()).not.toContain('store-reset');
      expect(source.restoreBatches).toEqual([]);
    });
  });

  describe('when it goes too long without confirming it is in sync', () => {
    it('becomes stale after maxStalenessMs, and fresh again once a round succeeds', async () => {
      const { sync, clock } = setUp();
      await sync.onSubscribed();
      expect(sync.isStale()).toBe(false);

      clock.advance(MAX_STALENESS_MS);
      expect(sync.isStale()).toBe(false);
      expect(sync.stalenessMs()).toBe(MAX_STALENESS_MS);

      clock.advance(1);
      expect(sync.isStale()).toBe(true);
      expect(sync.isReady()).toBe(false);

      await sync.tick();
      expect(sync.isStale()).toBe(false);
      expect(sync.stalenessMs()).toBe(0);
      expect(sync.isReady()).toBe(true);
    });

    it('counts freshness from when the confirming round started', async () => {
      const { sync, source, clock } = setUp();
      await sync.onSubscribed();
      const round = source.hold('readHead');
      const tick = sync.tick();
      await round.reached;
      const startedAt = clock.now();
      clock.advance(2_000);
      round.release();
      await tick;
      expect(sync.state.lastConfirmedMs).toBe(startedAt);
    });

    it('purges expired entries from the cache on each tick', async () => {
      const { sync, source, cache, clock } = setUp();
      source.revoke(token('short', 1_000));
      source.revoke(token('long'));
      await sync.onSubscribed();
      expect(cache.size).toBe(2);
      clock.advance(3_000);
      await sync.tick();
      expect(cache.size).toBe(1);
    });
  });

  describe('when the store is unreachable', () => {
    it('reports the error, is not ready, and recovers on the next successful tick', async () => {
      const { sync, source, observer, clock, revoked } = setUp();
      source.revoke(token('a'));
      await sync.onSubscribed();
      expect(sync.isReady()).toBe(true);

      const down = new Error('connection refused');
      source.failure = down;
      await expect(sync.tick()).resolves.toBeUndefined();
      expect(sync.state.storeReachable).toBe(false);
      expect(sync.isReady()).toBe(false);
      expect(observer.errors).toEqual([down]);
      // What it holds still answers.
      expect(revoked('a')).toBe(true);

      clock.advance(MAX_STALENESS_MS + 1);
      await sync.tick();
      expect(sync.isStale()).toBe(true);

      source.failure = null;
      source.revoke(token('made-during-outage'));
      await sync.tick();
      expect(sync.state.storeReachable).toBe(true);
      expect(sync.isStale()).toBe(false);
      expect(sync.isReady()).toBe(true);
      expect(revoked('made-during-outage')).toBe(true);
    });

    it('recovers from a failed start-up on the next tick', async () => {
      const { sync, source, observer, revoked } = setUp();
      source.revoke(token('a'));
      source.failure = new Error('no route to host');
      await sync.onSubscribed();
      expect(sync.hydrated).toBe(false);
      expect(sync.isReady()).toBe(false);
      expect(observer.errors).toHaveLength(1);

      source.failure = null;
      await sync.tick();
      expect(sync.hydrated).toBe(true);
      expect(revoked('a')).toBe(true);
      expect(sync.isReady()).toBe(true);
    });
  });

  describe('when the subscription is lost', () => {
    it('is not ready until resubscribed and caught up', async () => {
      const { sync, source, revoked } = setUp();
      await sync.onSubscribed();
      sync.onSubscriptionLost();
      expect(sync.state.subscribed).toBe(false);
      expect(sync.isReady()).toBe(false);

      source.revoke(token('while-lost-1'));
      source.revoke(token('while-lost-2'));
      await sync.tick();
      expect(sync.isReady()).toBe(false);

      await expectReadyOnlyOnceCaughtUp(sync, source);
      expect(revoked('while-lost-1')).toBe(true);
      expect(revoked('while-lost-2')).toBe(true);
    });

    it('reports the catch-up after resubscribing', async () => {
      const { sync, source, observer } = setUp();
      await sync.onSubscribed();
      sync.onSubscriptionLost();
      source.revoke(token('while-lost-1'));
      source.revoke(token('while-lost-2'));
      await sync.onSubscribed();
      expect(observer.resyncs.at(-1)).toEqual(['resubscribe', 2]);
    });

    it('does not count a round during which the subscription dropped as a catch-up', async () => {
      const { sync, source } = setUp();
      await sync.onSubscribed();
      source.calls.length = 0;
      const round = source.hold('readHead');
      const tick = sync.tick();
      await round.reached;
      sync.onSubscriptionLost();
      const resubscribed = sync.onSubscribed();
      const nextRound = source.hold('readHead');
      round.release();
      await nextRound.reached;
      expect(sync.isReady()).toBe(false);

      nextRound.release();
      await Promise.all([tick, resubscribed]);
      expect(sync.isReady()).toBe(true);
      expect(source.count('readHead')).toBe(2);
    });
  });

  describe('when rounds are requested while one runs', () => {
    it('never overlaps them, and runs one more round for all the requests', async () => {
      const { sync, source } = setUp();
      await sync.onSubscribed();
      source.calls.length = 0;
      const round = source.hold('readHead');
      const first = sync.tick();
      await round.reached;
      const later = [sync.tick(), sync.tick(), sync.sync('gap')];
      expect(source.count('readHead')).toBe(1);
      round.release();
      await Promise.all([first, ...later]);
      expect(source.count('readHead')).toBe(2);
    });
  });
});
