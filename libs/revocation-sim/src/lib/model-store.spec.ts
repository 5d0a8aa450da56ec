import { parseRevocationEvent, type Revocation } from '@rescind/revocation-core';
import { EventCodec } from '@rescind/revocation-redis';
import {
  ModelStore,
  NOT_AN_INTEGER,
  pxMilliseconds,
  type RevokeArgs,
  RedisReplyError,
} from './model-store';

const T0 = 1_780_000_000_000;
const SKEW = 500;

function setUp() {
  let now = T0;
  const published: string[] = [];
  const store = new ModelStore(
    () => now,
    (message) => published.push(message),
  );
  const revoke = (revocation: Revocation): ReturnType<ModelStore['revoke']> =>
    store.revoke(argsOf(revocation, now));
  return {
    store,
    published,
    revoke,
    advance(ms: number): void {
      now += ms;
    },
    now: () => now,
  };
}

function argsOf(revocation: Revocation, nowMs: number): RevokeArgs {
  return {
    revocation,
    recordJson: EventCodec.record(revocation),
    nowMs,
    wire: EventCodec.revokeArguments(revocation),
    newEpochNotBeforeMs: nowMs + SKEW,
  };
}

function token(id: string, lifeMs = 10_000): Revocation {
  return { kind: 'token', id, expiresAtMs: T0 + lifeMs, createdAtMs: T0 };
}

function user(id: string, cutoffMs: number, lifeMs = 10_000): Revocation {
  return { kind: 'user', id, cutoffMs, expiresAtMs: T0 + lifeMs, createdAtMs: T0 };
}

function claims(jti: string, sub = 'nobody', iatMs = T0 + 1000) {
  return { jti, sub, iatMs };
}

describe('ModelStore (the revocation store as its Lua scripts behave)', () => {
  describe('when the store holds no data set', () => {
    it('creates the epoch and a not-before of now + skew on the first head read', () => {
      const { store } = setUp();
      expect(store.readHead(T0 + SKEW)).toEqual(['e1', '0', '0-0', String(T0 + SKEW)]);
      expect(store.readHead(T0 + 99_999)).toEqual(['e1', '0', '0-0', String(T0 + SKEW)]);
    });

    it('revokes every token until a command re-creates the data set', () => {
      const { store } = setUp();
      expect(store.isRevoked(claims('x', 'y', T0 + 99_999))).toBe(true);
      store.readHead(T0 + SKEW);
      expect(store.isRevoked(claims('x', 'y', T0 + 99_999))).toBe(false);
    });

    it('creates them on the first revocation too, atomically with it', () => {
      const { store, revoke } = setUp();
      expect(revoke(token('a'))).toEqual(['e1', 1, `${T0}-0`, '0-0']);
      expect(store.readHead(0)[3]).toBe(String(T0 + SKEW));
    });

    it('gets a new epoch after a restart without data, and keeps everything with it', () => {
      const { store, revoke, advance } = setUp();
      revoke(token('a'));
      store.restart(true);
      expect(store.readHead(0).slice(0, 2)).toEqual(['e1', '1']);
      store.restart(false);
      advance(5);
      expect(store.readHead(T0 + 5 + SKEW)).toEqual(['e2', '0', '0-0', String(T0 + 5 + SKEW)]);
      expect(store.isRevoked(claims('a', 'nobody', T0 + 100))).toBe(true); // the not-before
      expect(store.isRevoked(claims('a', 'nobody', T0 + 5 + SKEW + 1))).toBe(false);
    });
  });

  describe('when revocations are logged', () => {
    it('numbers them without gaps, links each to the entry it follows, and publishes them', () => {
      const { revoke, published, advance } = setUp();
      const first = revoke(token('a'));
      const second = revoke(token('b'));
      advance(3);
      const third = revoke(user('u', T0 + 100));
      expect([first, second, third]).toEqual([
        ['e1', 1, `${T0}-0`, '0-0'],
        ['e1', 2, `${T0}-1`, `${T0}-0`],
        ['e1', 3, `${T0 + 3}-0`, `${T0}-1`],
      ]);
      const message = parseRevocationEvent(EventCodec.decodeMessage(published[2] as string));
      expect(message).toMatchObject({ seq: 3, logId: `${T0 + 3}-0`, kind: 'user' });
    });

    it('records nothing for a token already revoked, or a cut-off no later than the one held', () => {
      const { store, revoke } = setUp();
      revoke(token('a'));
      revoke(user('u', T0 + 100));
      expect(revoke(token('a'))).toBeNull();
      expect(revoke(user('u', T0 + 100))).toBeNull();
      expect(revoke(user('u', T0 + 200))?.[1]).toBe(3);
      expect(store.seq).toBe(3);
    });

    it('never shortens what an earlier cut-off still covered', () => {
      const { store, revoke, advance } = setUp();
      revoke(user('u', T0 + 100, 10_000));
      revoke(user('u', T0 + 200, 1_000));
      advance(5_000);
      expect(store.isRevoked(claims('x', 'u', T0 + 150))).toBe(true);
    });

    it('ends a record when its TTL, counted from the caller, runs out on the server', () => {
      const { store, advance } = setUp();
      // The caller's clock is 300 ms ahead of the server's: the record lives 9,700 ms.
      store.revoke(argsOf(token('a'), T0 + 300));
      advance(9_699);
      expect(store.isRevoked(claims('a'))).toBe(true);
      advance(1);
      expect(store.isRevoked(claims('a', 'nobody', T0 + 10_000))).toBe(false);
    });

    it('refuses a PX that is not a whole number, as Redis answers it', () => {
      expect(() => pxMilliseconds(1500.5)).toThrow(new RedisReplyError(NOT_AN_INTEGER));
      expect(pxMilliseconds(1501)).toBe(1501);
    });

    it('rounds a fractional TTL up before PX, as the fixed script does', () => {
      const { store, revoke } = setUp();
      expect(revoke({ ...token('a'), expiresAtMs: T0 + 999.5 })?.[1]).toBe(1);
      expect(store.isRevoked(claims('a'))).toBe(true);
    });
  });

  describe('when the log is read', () => {
    it('returns the entries after an id, parsed as the real store parses them', () => {
      const { store, revoke } = setUp();
      revoke(token('a'));
      store.appendUnreadable(false);
      store.appendUnreadable(true);
      revoke(token('b'));
      const entries = store.readAfter(`${T0}-0`, 10);
      expect(entries.map((e) => [e.kind, e.seq])).toEqual([
        ['unreadable', undefined],
        ['unreadable', 2],
        ['token', 3],
      ]);
      expect(store.readAfter(`${T0}-0`, 1)).toHaveLength(1);
    });

    it('tidies what expired and never trims the log past a live entry', () => {
      const { store, revoke } = setUp();
      revoke(token('short', 1_000));
      revoke(token('long', 60_000));
      revoke(token('short2', 1_000));
      expect(store.tidy(T0 + 2_000, 500)).toEqual({ indexRemoved: 2, logTrimmed: 1 });
      expect(store.logLength).toBe(2);
      expect(store.indexSize).toBe(1);
    });

    it('keeps the last generated id when the whole log is trimmed', () => {
      const { store, revoke } = setUp();
      revoke(token('a'));
      expect(store.trimOldest(5)).toBe(1);
      expect(store.readHead(0).slice(1, 3)).toEqual(['1', `${T0}-0`]);
      expect(revoke(token('b'))).toEqual(['e1', 2, `${T0}-1`, `${T0}-0`]);
    });
  });

  describe('when it fails over to a replica that missed the last appends', () => {
    it('loses them and logs the next revocations under the same numbers, after another entry', () => {
      const { store, revoke, advance } = setUp();
      revoke(token('a'));
      revoke(token('b'));
      revoke(token('c'));
      expect(store.failover(2)).toEqual({
        lostEntries: 2,
        lostIds: [`${T0}-1`, `${T0}-2`],
      });
      expect(store.onHistory(1, `${T0}-0`)).toBe(true);
      expect(store.onHistory(3, `${T0}-2`)).toBe(false);
      expect(store.readHead(0).slice(0, 3)).toEqual(['e1', '1', `${T0}-0`]);
      expect(store.isRevoked(claims('b'))).toBe(false);
      advance(1);
      expect(revoke(token('d'))).toEqual(['e1', 2, `${T0 + 1}-0`, `${T0}-0`]);
    });
  });

  describe('when the not-before is raised', () => {
    it('never lowers it, and creates an epoch without one when there is none', () => {
      const { store } = setUp();
      store.raiseNotBefore(T0 + 100);
      expect(store.readHead(T0 + 999)).toEqual(['e1', '0', '0-0', String(T0 + 100)]);
      store.raiseNotBefore(T0 + 50);
      expect(store.readHead(0)[3]).toBe(String(T0 + 100));
      expect(store.isRevoked(claims('x', 'y', T0 + 100))).toBe(true);
      expect(store.isRevoked(claims('x', 'y', T0 + 101))).toBe(false);
    });
  });

  describe('what a bridge between regions reads', () => {
    it('reads the log after an id with the origin each entry names', () => {
      const { store, now } = setUp();
      const mark = (revocation: Revocation, origin?: string): RevokeArgs => ({
        ...argsOf(revocation, now()),
        recordJson: EventCodec.record({ ...revocation, origin }),
        wire: EventCodec.revokeArguments(revocation, origin),
      });
      const first = store.revoke(mark(token('a'), 'eu'));
      store.revoke(mark(token('b'), 'us'));
      store.revoke(mark(token('c')));
      const read = store.readMarkedAfter(first?.[2] ?? '', 10);
      expect(read.map(({ entry, origin }) => [entry.seq, origin])).toEqual([
        [2, 'us'],
        [3, undefined],
      ]);
      expect(store.readMarkedAfter('0-0', 1)).toHaveLength(1);
      expect(store.listLive(now()).map((item) => [item.revocation.id, item.origin])).toEqual([
        ['a', 'eu'],
        ['b', 'us'],
        ['c', undefined],
      ]);
    });

    it('lists only live revocations, and holds a cut-off only as late as the one recorded', () => {
      const { store, revoke, advance, now } = setUp();
      revoke(token('short', 100));
      revoke(user('u', T0 + 50));
      advance(200);
      expect(store.listLive(now()).map((item) => item.revocation.id)).toEqual(['u']);
      expect(store.holds(token('short', 100))).toBe(false);
      expect(store.holds(user('u', T0 + 50))).toBe(true);
      expect(store.holds(user('u', T0 + 60))).toBe(false);
    });
  });
});
