import {
  parseRevocationEvent,
  type Revocation,
  type RevocationEvent,
  type TokenRevocation,
} from '@rescind/revocation-core';
import {
  connectRedis,
  deleteKeys,
  sharedRedisSuite,
  HOUR,
  keysUnder,
  session,
  token,
  user,
  waitFor,
} from '../testing/store-fixtures';
import { EventCodec } from './event-codec';
import { type RedisKeys } from './redis-keys';
import {
  formatListPosition,
  type ListPosition,
  parseListPosition,
  RevocationStore,
  type RevocationStoreOptions,
} from './revocation-store';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const STREAM_ID = /^\d+-\d+$/;

function logged(event: RevocationEvent | null): RevocationEvent {
  if (event === null) throw new Error('expected the revocation to be recorded');
  return event;
}

describe('RevocationStore (against a real Redis)', () => {
  const db = sharedRedisSuite();

  function newStore(options: RevocationStoreOptions = {}): {
    keys: RedisKeys;
    store: RevocationStore;
  } {
    const keys = db.keys();
    return { keys, store: new RevocationStore(db.redis, keys, options) };
  }

  async function subscribe(
    channel: string,
  ): Promise<{ messages: string[]; close(): Promise<void> }> {
    const subscriber = connectRedis();
    const messages: string[] = [];
    subscriber.on('message', (from: string, message: string) => {
      if (from === channel) messages.push(message);
    });
    await subscriber.subscribe(channel);
    return { messages, close: async () => void (await subscriber.quit()) };
  }

  describe('when a token is revoked', () => {
    it('records it with a TTL equal to its remaining life, indexes and logs it', async () => {
      const { keys, store } = newStore();
      const revocation = token('jti-1', 60_000);

      const event = await store.revoke(revocation, { reason: 'logout', actor: 'self' });

      expect(event).toEqual({
        ...revocation,
        epoch: expect.stringMatching(UUID),
        seq: 1,
        logId: expect.stringMatching(STREAM_ID),
        prevLogId: '0-0',
      });
      const record = keys.record('token', 'jti-1');
      expect(JSON.parse((await db.redis.get(record)) ?? 'null')).toEqual({
        ...revocation,
        reason: 'logout',
        actor: 'self',
        epoch: event?.epoch,
        seq: 1,
      });
      const pttl = await db.redis.pttl(record);
      const remaining = revocation.expiresAtMs - Date.now();
      expect(pttl).toBeGreaterThan(remaining - 1_000);
      expect(pttl).toBeLessThanOrEqual(60_000);
      expect(Number(await db.redis.zscore(keys.index, 't:jti-1'))).toBe(revocation.expiresAtMs);
      expect(await db.redis.zcard(keys.index)).toBe(1);
      expect(await db.redis.get(keys.seq)).toBe('1');
      expect(await db.redis.get(keys.epoch)).toBe(event?.epoch);

      const log = await db.redis.xrange(keys.log, '-', '+');
      expect(log).toHaveLength(1);
      const [[logId, fields]] = log as [[string, string[]]];
      expect(logId).toBe(event?.logId);
      // One field per property, every value a string (docs/design.md, "Event wire format").
      expect(fields).toEqual([
        'v',
        '2',
        'kind',
        'token',
        'id',
        'jti-1',
        'expiresAtMs',
        String(revocation.expiresAtMs),
        'createdAtMs',
        String(revocation.createdAtMs),
        'epoch',
        event?.epoch,
        'seq',
        '1',
        'prevLogId',
        '0-0',
      ]);
      expect(fields).toEqual(EventCodec.logFields(logged(event)));
    });

    it('links each entry to the one it follows, also once the log was trimmed past it', async () => {
      const { keys, store } = newStore();
      const first = await store.revoke(token('jti-1', 60_000));
      const second = await store.revoke(token('jti-2', 60_000));
      await db.redis.xtrim(keys.log, 'MAXLEN', 0);
      const third = await store.revoke(token('jti-3', 60_000));

      expect(second?.prevLogId).toBe(first?.logId);
      expect(third?.prevLogId).toBe(second?.logId);
      const [[id, fields]] = (await db.redis.xrange(keys.log, '-', '+')) as [[string, string[]]];
      expect(EventCodec.logEntry(id, fields)).toMatchObject({ seq: 3, prevLogId: second?.logId });
    });

    it('publishes the event on the channel as the codec encodes it, without any transport framing', async () => {
      const { keys, store } = newStore();
      const subscriber = await subscribe(keys.channel);
      try {
        const event = await store.revoke(token('jti-1'));
        await waitFor(() => subscriber.messages.length > 0, 'the event was published');

        const message = subscriber.messages[0] ?? '';
        expect(Object.keys(JSON.parse(message) as object).sort()).toEqual([
          'createdAtMs',
          'epoch',
          'expiresAtMs',
          'id',
          'kind',
          'logId',
          'prevLogId',
          'seq',
          'v',
        ]);
        expect(parseRevocationEvent(EventCodec.decodeMessage(message))).toEqual(event);
        expect(JSON.parse(message)).toEqual(JSON.parse(EventCodec.message(logged(event))));
      } finally {
        await subscriber.close();
      }
    });

    it('numbers events without gaps under one epoch, in log order', async () => {
      const { store } = newStore();
      const events = [];
      for (const id of ['a', 'b', 'c']) events.push(logged(await store.revoke(token(id))));
      expect(events.map((e) => e.seq)).toEqual([1, 2, 3]);
      expect(new Set(events.map((e) => e.epoch)).size).toBe(1);
      const order = events.map((e) => e.logId.split('-').map(BigInt) as [bigint, bigint]);
      for (let i = 1; i < order.length; i++) {
        const [ms, seq] = order[i] as [bigint, bigint];
        const [prevMs, prevSeq] = order[i - 1] as [bigint, bigint];
        expect(ms > prevMs || (ms === prevMs && seq > prevSeq)).toBe(true);
      }
    });

    it('numbers concurrent revocations without gaps or duplicates', async () => {
      const { store } = newStore();
      const events = await Promise.all(
        Array.from({ length: 50 }, (_, i) => store.revoke(token(`c${i}`))),
      );
      expect(events.map((e) => logged(e).seq).sort((a, b) => a - b)).toEqual(
        Array.from({ length: 50 }, (_, i) => i + 1),
      );
    });

    it('records nothing the second time the same jti is revoked', async () => {
      const { keys, store } = newStore();
      const subscriber = await subscribe(keys.channel);
      try {
        logged(await store.revoke(token('jti-1')));
        expect(await store.revoke(token('jti-1', 2 * HOUR))).toBeNull();
        await waitFor(() => subscriber.messages.length === 1, 'the first event was published');

        expect(await db.redis.xlen(keys.log)).toBe(1);
        expect(await db.redis.get(keys.seq)).toBe('1');
        // A PING on the same connection comes back after any message of the second call.
        await db.redis.ping();
        expect(subscriber.messages).toHaveLength(1);
      } finally {
        await subscriber.close();
      }
    });

    it('records nothing, not even an epoch, for a token that has already expired', async () => {
      const { keys, store } = newStore();
      const now = Date.now();
      const expired: TokenRevocation = {
        kind: 'token',
        id: 'old',
        expiresAtMs: now - 1,
        createdAtMs: now - HOUR,
      };
      expect(await store.revoke(expired)).toBeNull();
      expect(await store.revoke(user('someone', now - HOUR, -1))).toBeNull();
      expect(await keysUnder(db.redis, `${keys.prefix}:*`)).toEqual([]);
    });

    it('carries ids with quotes and backslashes intact through record, log and channel', async () => {
      const { keys, store } = newStore();
      const subscriber = await subscribe(keys.channel);
      try {
        const id = 'we"ird\\id{x}:*,"expiresAtMs":1';
        const event = logged(await store.revoke(token(id)));
        await waitFor(() => subscriber.messages.length > 0, 'the event was published');

        expect(event.id).toBe(id);
        expect(await db.redis.exists(keys.record('token', id))).toBe(1);
        expect(await store.readAfter('0-0', 10)).toEqual([event]);
        const message = EventCodec.decodeMessage(subscriber.messages[0] ?? '');
        expect(parseRevocationEvent(message)).toEqual(event);
        // Tidying reads expiries out of log entries: the id must not fool it.
        expect(await store.tidy(100, Date.now())).toEqual({
          indexRemoved: 0,
          logTrimmed: 0,
          more: false,
        });
      } finally {
        await subscriber.close();
      }
    });
  });

  describe('when a user is cut off', () => {
    it('records the cut-off with a TTL and logs it', async () => {
      const { keys, store } = newStore();
      const revocation = user('alice', Date.now(), 60_000);
      const event = logged(await store.revoke(revocation, { reason: 'logout-all' }));

      expect(event).toMatchObject({ kind: 'user', id: 'alice', cutoffMs: revocation.cutoffMs });
      const record = JSON.parse((await db.redis.get(keys.record('user', 'alice'))) ?? 'null');
      expect(record).toMatchObject({ cutoffMs: revocation.cutoffMs, reason: 'logout-all' });
      expect(await db.redis.pttl(keys.record('user', 'alice'))).toBeGreaterThan(55_000);
      expect(Number(await db.redis.zscore(keys.index, 'u:alice'))).toBe(revocation.expiresAtMs);
    });

    it('keeps the later cut-off: an earlier or equal one records nothing', async () => {
      const { keys, store } = newStore();
      const now = Date.now();
      logged(await store.revoke(user('alice', now)));
      expect(await store.revoke(user('alice', now - 1_000))).toBeNull();
      expect(await store.revoke(user('alice', now))).toBeNull();
      expect(await db.redis.xlen(keys.log)).toBe(1);

      const later = logged(await store.revoke(user('alice', now + 1_000)));
      expect(later.seq).toBe(2);
      const record = JSON.parse((await db.redis.get(keys.record('user', 'alice'))) ?? 'null');
      expect(record.cutoffMs).toBe(now + 1_000);
    });
  });

  describe('when a session ends', () => {
    it('records it with a TTL, indexes it as s:<sid>, logs and publishes it', async () => {
      const { keys, store } = newStore();
      const channel = await subscribe(keys.channel);
      try {
        const revocation = session('sid-1', 60_000);
        const event = logged(await store.revoke(revocation, { reason: 'logout', actor: 'self' }));

        expect(event).toMatchObject({ kind: 'session', id: 'sid-1', seq: 1 });
        expect(event).not.toHaveProperty('cutoffMs');
        const record = JSON.parse((await db.redis.get(keys.record('session', 'sid-1'))) ?? 'null');
        expect(record).toMatchObject({ kind: 'session', id: 'sid-1', reason: 'logout' });
        expect(await db.redis.pttl(keys.record('session', 'sid-1'))).toBeGreaterThan(55_000);
        expect(Number(await db.redis.zscore(keys.index, 's:sid-1'))).toBe(revocation.expiresAtMs);
        expect(await store.readAfter('0-0', 10)).toEqual([event]);
        await waitFor(() => channel.messages.length === 1, 'the event was published');
        expect(parseRevocationEvent(EventCodec.decodeMessage(channel.messages[0] ?? ''))).toEqual(
          event,
        );
      } finally {
        await channel.close();
      }
    });

    it('is idempotent: a repeat with an expiry not later records nothing', async () => {
      const { keys, store } = newStore();
      const first = session('sid-1', HOUR);
      logged(await store.revoke(first));
      expect(await store.revoke(first)).toBeNull();
      expect(await store.revoke({ ...first, expiresAtMs: first.expiresAtMs - 1_000 })).toBeNull();
      expect(await db.redis.xlen(keys.log)).toBe(1);
      expect(Number(await db.redis.zscore(keys.index, 's:sid-1'))).toBe(first.expiresAtMs);
    });

    it('extends it when a later expiry comes, logging that', async () => {
      const { keys, store } = newStore();
      const first = session('sid-1', 60_000);
      logged(await store.revoke(first));
      const later = logged(await store.revoke({ ...first, expiresAtMs: first.expiresAtMs + HOUR }));
      expect(later.seq).toBe(2);
      expect(Number(await db.redis.zscore(keys.index, 's:sid-1'))).toBe(first.expiresAtMs + HOUR);
      expect(await db.redis.pttl(keys.record('session', 'sid-1'))).toBeGreaterThan(HOUR);
    });

    it('keeps the session, the token and the user of one id apart', async () => {
      const { keys, store } = newStore();
      logged(await store.revoke(session('x')));
      logged(await store.revoke(token('x')));
      logged(await store.revoke(user('x', Date.now())));
      expect((await db.redis.zrange(keys.index, 0, -1)).sort()).toEqual(['s:x', 't:x', 'u:x']);
    });
  });

  describe('when asked whether a token is revoked (cache overflow)', () => {
    const cutoffMs = Date.now();
    let store: RevocationStore;

    beforeEach(async () => {
      let keys: RedisKeys;
      ({ keys, store } = newStore());
      await db.redis.set(keys.epoch, 'created-before-these-tokens'); // no not-before
      await store.revoke(token('revoked-jti'));
      await store.revoke(user('alice', cutoffMs));
      await store.revoke(session('ended-sid'));
    });

    it('answers true for every token of an ended session, whenever issued', async () => {
      for (const iatMs of [cutoffMs - 60_000, cutoffMs + 60_000]) {
        expect(await store.isRevoked({ jti: 'fresh', sub: 'bob', sid: 'ended-sid', iatMs })).toBe(
          true,
        );
      }
    });

    it('answers false for a token of another session, and does not read a sid as a jti', async () => {
      expect(
        await store.isRevoked({ jti: 'fresh', sub: 'bob', sid: 'live-sid', iatMs: cutoffMs }),
      ).toBe(false);
      expect(await store.isRevoked({ jti: 'ended-sid', sub: 'bob', iatMs: cutoffMs })).toBe(false);
      expect(
        await store.isRevoked({ jti: 'x', sub: 'bob', sid: 'revoked-jti', iatMs: cutoffMs }),
      ).toBe(false);
    });

    it('answers true for a revoked jti, whoever presents it', async () => {
      expect(await store.isRevoked({ jti: 'revoked-jti', sub: 'bob', iatMs: cutoffMs + 5 })).toBe(
        true,
      );
    });

    it("answers true for a token issued at or before its user's cut-off", async () => {
      expect(await store.isRevoked({ jti: 'j1', sub: 'alice', iatMs: cutoffMs - 60_000 })).toBe(
        true,
      );
      expect(await store.isRevoked({ jti: 'j2', sub: 'alice', iatMs: cutoffMs })).toBe(true);
    });

    it('answers false for a token issued after the cut-off', async () => {
      expect(await store.isRevoked({ jti: 'j3', sub: 'alice', iatMs: cutoffMs + 1 })).toBe(false);
    });

    it('answers false for an unknown token of an unknown user', async () => {
      expect(await store.isRevoked({ jti: 'unknown', sub: 'bob', iatMs: cutoffMs })).toBe(false);
    });

    it('answers true for any token issued at or before the store-wide not-before', async () => {
      const { store: fresh } = newStore({ clockSkewMs: 250 });
      const head = await fresh.readHead();
      expect(head.notBeforeMs).toBeGreaterThanOrEqual(cutoffMs + 250);
      expect(await fresh.isRevoked({ jti: 'a', sub: 'b', iatMs: head.notBeforeMs })).toBe(true);
      expect(await fresh.isRevoked({ jti: 'a', sub: 'b', iatMs: head.notBeforeMs + 1 })).toBe(
        false,
      );
    });

    it('answers true for every token while the store has lost its data set (no epoch yet)', async () => {
      const { keys, store: lost } = newStore();
      await db.redis.set(keys.epoch, 'about-to-be-lost');
      expect(await lost.isRevoked({ jti: 'a', sub: 'b', iatMs: cutoffMs })).toBe(false);
      await deleteKeys(db.redis, keys.prefix);
      expect(await lost.isRevoked({ jti: 'a', sub: 'b', iatMs: cutoffMs })).toBe(true);
    });

    it('does so with exactly one Redis command (an MGET)', async () => {
      const sendCommand = jest.spyOn(db.redis, 'sendCommand');
      try {
        for (const claims of [
          { jti: 'revoked-jti', sub: 'bob', iatMs: cutoffMs },
          { jti: 'j2', sub: 'alice', iatMs: cutoffMs },
          { jti: 'j3', sub: 'alice', iatMs: cutoffMs + 1 },
          { jti: 'unknown', sub: 'bob', iatMs: cutoffMs },
          { jti: 'unknown', sub: 'bob', sid: 'ended-sid', iatMs: cutoffMs },
          { jti: 'unknown', sub: 'bob', sid: 'live-sid', iatMs: cutoffMs },
        ]) {
          sendCommand.mockClear();
          await store.isRevoked(claims);
          expect(sendCommand.mock.calls.map(([command]) => command.name)).toEqual(['mget']);
        }
      } finally {
        sendCommand.mockRestore();
      }
    });
  });

  describe('when the head of the log is read', () => {
    it('creates the epoch once and keeps it', async () => {
      const { keys, store } = newStore();
      const before = Date.now();
      const first = await store.readHead();
      expect(first).toEqual({
        epoch: expect.stringMatching(UUID),
        seq: 0,
        logId: '0-0',
        notBeforeMs: expect.any(Number),
      });
      // A new data set revokes what was issued before it, plus the tolerated skew.
      expect(first.notBeforeMs).toBeGreaterThanOrEqual(before + 500);
      expect(first.notBeforeMs).toBeLessThanOrEqual(Date.now() + 500);
      expect(await store.readHead()).toEqual(first);
      expect(await db.redis.get(keys.epoch)).toBe(first.epoch);

      const event = logged(await store.revoke(token('a')));
      expect(event.epoch).toBe(first.epoch);
    });

    it('reports the sequence number and stream id of the last event', async () => {
      const { store } = newStore();
      await store.revoke(token('a'));
      const last = logged(await store.revoke(token('b')));
      expect(await store.readHead()).toMatchObject({
        epoch: last.epoch,
        seq: 2,
        logId: last.logId,
      });
    });

    it('reports a new epoch once the data is gone', async () => {
      const { keys, store } = newStore();
      const before = await store.readHead();
      await deleteKeys(db.redis, keys.prefix);
      const after = await store.readHead();
      expect(after.epoch).not.toBe(before.epoch);
      expect(after).toMatchObject({ seq: 0, logId: '0-0' });
      expect(after.notBeforeMs).toBeGreaterThanOrEqual(before.notBeforeMs);
    });

    it('gives the data set its not-before when a revocation creates it', async () => {
      const { keys, store } = newStore({ clockSkewMs: 0 });
      const before = Date.now();
      await store.revoke(token('a'));
      expect(Number(await db.redis.get(keys.notBefore))).toBeGreaterThanOrEqual(before);
      expect((await store.readHead()).notBeforeMs).toBe(Number(await db.redis.get(keys.notBefore)));
    });

    it('reads a data set of an older build, which has no not-before, as 0', async () => {
      const { keys, store } = newStore();
      await db.redis.set(keys.epoch, 'older-build');
      expect(await store.readHead()).toMatchObject({ epoch: 'older-build', notBeforeMs: 0 });
    });
  });

  describe('when the not-before is raised (a replica failing safe)', () => {
    it('only ever raises it', async () => {
      const { keys, store } = newStore();
      const { notBeforeMs } = await store.readHead();
      await store.raiseNotBefore(notBeforeMs + 5_000.5);
      expect((await store.readHead()).notBeforeMs).toBe(notBeforeMs + 5_001);
      await store.raiseNotBefore(notBeforeMs);
      expect((await store.readHead()).notBeforeMs).toBe(notBeforeMs + 5_001);
      expect(await db.redis.get(keys.epoch)).not.toBeNull();
    });
  });

  describe('when the log is read after a position', () => {
    it('returns the entries strictly after it, oldest first, at most the limit', async () => {
      const { store } = newStore();
      const events: RevocationEvent[] = [];
      for (const id of ['a', 'b', 'c', 'd', 'e'])
        events.push(logged(await store.revoke(token(id))));
      await store.revoke(user('alice', Date.now()));
      const all = await store.readAfter('0-0', 100);

      expect(all.slice(0, 5)).toEqual(events);
      expect(all[5]).toMatchObject({ kind: 'user', id: 'alice', seq: 6 });
      expect(await store.readAfter(events[1]?.logId ?? '', 100)).toEqual(all.slice(2));
      expect(await store.readAfter(events[1]?.logId ?? '', 2)).toEqual(events.slice(2, 4));
      expect(await store.readAfter(all[5]?.logId ?? '', 100)).toEqual([]);
    });
  });

  describe('when a snapshot is taken', () => {
    it('pages through every live revocation and skips expired index entries', async () => {
      const { keys, store } = newStore({ snapshotPageSize: 100 });
      const tokens = Array.from({ length: 5_000 }, (_, i) => token(`jti-${i}`));
      const now = Date.now();
      const users = Array.from({ length: 10 }, (_, i) => user(`user-${i}`, now - i));
      const sessions = Array.from({ length: 20 }, (_, i) => session(`sid-${i}`));
      await Promise.all([...tokens, ...users, ...sessions].map((r) => store.revoke(r)));
      // Left behind by revocations that expired and were not tidied yet.
      await db.redis.zadd(keys.index, now - 1, 't:expired-1', now - 1_000, 'u:expired-2');
      await db.redis.zadd(keys.index, now - 1, 's:expired-3');
      // A member of a kind a newer build writes: left alone.
      await db.redis.zadd(keys.index, now + HOUR, 'z:from-the-future');
      await db.redis.set(keys.record('user', 'expired-2'), JSON.stringify(user('expired-2', now)));

      const pages: (readonly Revocation[])[] = [];
      await store.snapshot((page) => pages.push(page));

      expect(pages.length).toBeGreaterThan(10);
      const seen = new Map<string, Revocation>();
      for (const page of pages) for (const r of page) seen.set(`${r.kind}:${r.id}`, r);
      expect(seen.size).toBe(5_030);
      for (const s of sessions) {
        expect(seen.get(`session:${s.id}`)).toEqual({
          kind: 'session',
          id: s.id,
          expiresAtMs: s.expiresAtMs,
          createdAtMs: 0,
        });
      }
      for (const t of tokens) {
        expect(seen.get(`token:${t.id}`)).toMatchObject({ expiresAtMs: t.expiresAtMs });
      }
      for (const u of users) {
        expect(seen.get(`user:${u.id}`)).toEqual({
          kind: 'user',
          id: u.id,
          cutoffMs: u.cutoffMs,
          expiresAtMs: u.expiresAtMs,
          createdAtMs: u.createdAtMs,
        });
      }
      expect(seen.has('token:expired-1')).toBe(false);
      expect(seen.has('user:expired-2')).toBe(false);
      expect(seen.has('session:expired-3')).toBe(false);
    });

    it('hands out no page for an empty store', async () => {
      const { store } = newStore();
      const onPage = jest.fn();
      await store.snapshot(onPage);
      expect(onPage).not.toHaveBeenCalled();
    });
  });

  describe('when revocations are restored into a store whose history diverged', () => {
    it('logs and publishes each one like a new revocation, with its TTL', async () => {
      const { keys, store } = newStore();
      const now = Date.now();
      const subscriber = connectRedis();
      const messages: string[] = [];
      try {
        await subscriber.subscribe(keys.channel);
        subscriber.on('message', (_channel: string, message: string) => messages.push(message));
        await store.restore([
          token('a', 60_000),
          user('alice', now, 60_000),
          session('sid-1', 60_000),
        ]);

        expect(
          await db.redis.exists(
            keys.record('token', 'a'),
            keys.record('user', 'alice'),
            keys.record('session', 'sid-1'),
          ),
        ).toBe(3);
        expect(await db.redis.pttl(keys.record('token', 'a'))).toBeGreaterThan(55_000);
        expect(await db.redis.pttl(keys.record('session', 'sid-1'))).toBeGreaterThan(55_000);
        expect(await db.redis.zcard(keys.index)).toBe(3);
        expect(await db.redis.xlen(keys.log)).toBe(3);
        expect(await db.redis.get(keys.seq)).toBe('3');
        expect(JSON.parse((await db.redis.get(keys.record('token', 'a'))) ?? 'null')).toMatchObject(
          {
            reason: 'restored',
          },
        );
        await waitFor(() => messages.length === 3, 'all were published');
      } finally {
        await subscriber.quit();
      }
    });

    it('skips what the store already covers, so nothing is logged twice', async () => {
      const { keys, store } = newStore();
      await store.revoke(token('a'));
      await store.restore([token('a'), token('b')]);
      expect(await db.redis.get(keys.seq)).toBe('2');
      expect((await store.readHead()).seq).toBe(2);
    });

    it('never shortens a later user cut-off', async () => {
      const { keys, store } = newStore();
      const now = Date.now();
      await store.revoke(user('alice', now));
      await store.restore([user('alice', now - 5_000)]);
      const recordOf = async () =>
        JSON.parse((await db.redis.get(keys.record('user', 'alice'))) ?? 'null') as {
          cutoffMs: number;
        };
      expect((await recordOf()).cutoffMs).toBe(now);

      await store.restore([user('alice', now + 5_000)]);
      expect((await recordOf()).cutoffMs).toBe(now + 5_000);
    });

    it('keeps what is recorded for a token, audit trail included', async () => {
      const { keys, store } = newStore();
      const revocation = token('a');
      await store.revoke(revocation, { reason: 'stolen', actor: 'admin' });
      await store.restore([revocation]);
      expect(JSON.parse((await db.redis.get(keys.record('token', 'a'))) ?? 'null')).toMatchObject({
        reason: 'stolen',
        actor: 'admin',
      });
    });

    it('never lowers the expiry in the index', async () => {
      const { keys, store } = newStore();
      const revocation = token('a', 2 * HOUR);
      await store.revoke(revocation);
      await store.restore([{ ...revocation, expiresAtMs: revocation.expiresAtMs - HOUR }]);
      expect(Number(await db.redis.zscore(keys.index, 't:a'))).toBe(revocation.expiresAtMs);
    });

    it('skips revocations that have expired', async () => {
      const { keys, store } = newStore();
      const now = Date.now();
      await store.restore([{ kind: 'token', id: 'old', expiresAtMs: now - 1, createdAtMs: 0 }]);
      expect(await keysUnder(db.redis, `${keys.prefix}:*`)).toEqual([]);
    });
  });

  describe('when a token has a fractional exp (RFC 7519 §2 NumericDate)', () => {
    it('records it, rounded up so that the record outlives the token', async () => {
      const { keys, store } = newStore();
      const expSeconds = Math.floor(Date.now() / 1000) + 60.5;
      const event = await store.revoke({
        kind: 'token',
        id: 'fractional',
        expiresAtMs: expSeconds * 1000 + 0.25,
        createdAtMs: Date.now() + 0.5,
      });
      expect(event).toMatchObject({ expiresAtMs: expSeconds * 1000 + 1 });
      expect(Number.isSafeInteger(event?.createdAtMs)).toBe(true);
      expect(await db.redis.pttl(keys.record('token', 'fractional'))).toBeGreaterThan(59_000);
    });

    it('records a fractional user cut-off, rounded up', async () => {
      const { keys, store } = newStore();
      const cutoffMs = Date.now() + 0.5;
      await store.revoke(user('alice', cutoffMs));
      const record = JSON.parse((await db.redis.get(keys.record('user', 'alice'))) ?? 'null') as {
        cutoffMs: number;
      };
      expect(record.cutoffMs).toBe(Math.ceil(cutoffMs));
    });
  });

  describe('when the log holds an entry this build cannot read', () => {
    it('reads it as unreadable instead of failing the whole page', async () => {
      const { keys, store } = newStore();
      await store.revoke(token('a'));
      const garbage = await db.redis.xadd(keys.log, '*', 'e', '{not json');
      const newer = await db.redis.xadd(keys.log, '*', 'e', '{"v":2,"seq":2,"kind":"session"}');
      const other = await db.redis.xadd(keys.log, '*', 'x', 'no e field');
      await store.revoke(token('b'));

      const entries = await store.readAfter('0-0', 10);

      expect(entries.map((e) => e.kind)).toEqual([
        'token',
        'unreadable',
        'unreadable',
        'unreadable',
        'token',
      ]);
      expect(entries[1]).toMatchObject({ logId: garbage });
      expect(entries[1]).not.toHaveProperty('seq');
      expect(entries[2]).toMatchObject({ logId: newer, seq: 2 });
      expect(entries[3]).toMatchObject({ logId: other });
    });
  });

  describe('when a live revocation is looked up by id', () => {
    it('finds it with its audit trail and the log position it was recorded at', async () => {
      const { store } = newStore();
      const first = logged(await store.revoke(token('x'), { actor: 'admin', reason: 'stolen' }));
      const cut = logged(await store.revoke(user('x', Date.now()), { actor: 'self' }));
      expect(await store.find('x', ['token'])).toEqual([
        {
          ...token('x'),
          createdAtMs: expect.any(Number),
          expiresAtMs: expect.any(Number),
          actor: 'admin',
          reason: 'stolen',
          position: { epoch: first.epoch, seq: 1 },
        },
      ]);
      const both = await store.find('x');
      expect(both.map((record) => [record.kind, record.position?.seq])).toEqual([
        ['token', 1],
        ['user', 2],
      ]);
      expect(both[1]?.position?.epoch).toBe(cut.epoch);
      expect(await store.find('nobody')).toEqual([]);
    });

    it('moves the position of a user cut-off or a session to their latest revocation', async () => {
      const { store } = newStore();
      const now = Date.now();
      logged(await store.revoke(user('alice', now - 1_000)));
      logged(await store.revoke(session('sid-1', HOUR)));
      // Covered already: nothing is logged, the position stays.
      expect(await store.revoke(user('alice', now - 2_000))).toBeNull();
      expect((await store.find('alice', ['user']))[0]?.position?.seq).toBe(1);
      logged(await store.revoke(user('alice', now)));
      logged(await store.revoke(session('sid-1', 2 * HOUR)));
      expect((await store.find('alice', ['user']))[0]?.position?.seq).toBe(3);
      expect((await store.find('sid-1', ['session']))[0]?.position?.seq).toBe(4);
    });

    it('reads a record written before positions were kept, without one', async () => {
      const { keys, store } = newStore();
      const old = token('old');
      await db.redis.set(keys.record('token', 'old'), JSON.stringify({ ...old, actor: 'admin' }));
      const [record] = await store.find('old');
      expect(record).toEqual({ ...old, actor: 'admin' });
      expect(record).not.toHaveProperty('position');
    });

    it('refuses what is no revocation id', async () => {
      const { store } = newStore();
      await expect(store.find('')).rejects.toThrow(RangeError);
    });
  });

  describe('when live revocations are listed a page at a time', () => {
    /** Every id, paging `limit` at a time; `between` runs after each page (e.g. a tidy). */
    async function pageThrough(
      store: RevocationStore,
      limit: number,
      between: (next: ListPosition) => Promise<void> = async () => undefined,
    ): Promise<string[]> {
      const ids: string[] = [];
      let next: ListPosition | undefined;
      for (let round = 0; round < 50; round++) {
        const page = await store.list(limit, next);
        ids.push(...page.items.map((item) => item.id));
        if (page.next === undefined) return ids;
        next = page.next;
        await between(next);
      }
      throw new Error(`still paging after 50 pages: ${ids.join(',')}`);
    }

    async function revokeSeven(store: RevocationStore): Promise<string[]> {
      const now = Date.now();
      // Three share one expiry, as tokens expiring within one second do.
      const expiries = [now + HOUR, now + HOUR, now + HOUR, now + 2 * HOUR, now + 3 * HOUR];
      const ids: string[] = [];
      for (const [i, expiresAtMs] of expiries.entries()) {
        logged(
          await store.revoke({ kind: 'token', id: `jti-${i}`, expiresAtMs, createdAtMs: now }),
        );
        ids.push(`jti-${i}`);
      }
      logged(await store.revoke(user('alice', now, 4 * HOUR)));
      logged(await store.revoke(user('bob', now, 4 * HOUR)));
      logged(await store.revoke(session('sid-1', 5 * HOUR)));
      return [...ids, 'alice', 'bob', 'sid-1'];
    }

    it('lists each live revocation once, by expiry', async () => {
      const { store } = newStore();
      const ids = await revokeSeven(store);
      expect(await pageThrough(store, 2)).toEqual(ids);
      expect(await pageThrough(store, 100)).toEqual(ids);
      const last = (await store.list(100)).items.at(-1);
      expect(last).toMatchObject({ kind: 'session', id: 'sid-1' });
    });

    it('continues after a position whose revocation has left the index meanwhile', async () => {
      const { keys, store } = newStore();
      const ids = await revokeSeven(store);
      const removed: string[] = [];
      const listed = await pageThrough(store, 2, async (next) => {
        // What the worker does to an expired revocation: the cursor's member is gone.
        await db.redis.zrem(keys.index, next.member);
        removed.push(next.member.slice(2));
      });
      expect(removed.length).toBeGreaterThan(1);
      expect(listed).toEqual(ids);
    });

    it('writes and reads positions as text, and refuses any other text', () => {
      const position = { expiresAtMs: 1_764_000_000_123, member: 'u:a:b~c' };
      expect(parseListPosition(formatListPosition(position))).toEqual(position);
      const ofSession = { expiresAtMs: 1_764_000_000_123, member: 's:sid-1' };
      expect(parseListPosition(formatListPosition(ofSession))).toEqual(ofSession);
      for (const text of ['', 't:abc', '12:x:abc', 'abc:t:x', '12:t:', '1.5:t:x']) {
        expect(parseListPosition(text)).toBeUndefined();
      }
    });
  });

  describe('when expired revocations are tidied', () => {
    async function tidyUntilDone(store: RevocationStore, batch: number, nowMs?: number) {
      const results = [];
      for (let round = 0; round < 100; round++) {
        const result = await store.tidy(batch, nowMs);
        results.push(result);
        if (!result.more) break;
      }
      return results;
    }

    it('leaves no index entry, no log entry and no record once they expired', async () => {
      const { keys, store } = newStore();
      const expiresAtMs = Date.now() + 200;
      const now = Date.now();
      const revocations: Revocation[] = [
        ...Array.from({ length: 20 }, (_, i) => ({
          kind: 'token' as const,
          id: `short-${i}`,
          expiresAtMs,
          createdAtMs: now,
        })),
        { kind: 'user', id: 'alice', cutoffMs: now, expiresAtMs, createdAtMs: now },
        { kind: 'user', id: 'bob', cutoffMs: now, expiresAtMs, createdAtMs: now },
        { kind: 'session', id: 'sid-1', expiresAtMs, createdAtMs: now },
      ];
      for (const r of revocations) logged(await store.revoke(r));
      expect(await store.tidy(5)).toEqual({ indexRemoved: 0, logTrimmed: 0, more: false });

      await waitFor(() => Date.now() > expiresAtMs, 'the revocations expired');
      const results = await tidyUntilDone(store, 5);

      expect(results.length).toBeGreaterThan(1);
      expect(results.slice(0, -1).every((r) => r.more)).toBe(true);
      expect(results.reduce((sum, r) => sum + r.indexRemoved, 0)).toBe(23);
      expect(results.reduce((sum, r) => sum + r.logTrimmed, 0)).toBe(23);
      expect(await db.redis.zcard(keys.index)).toBe(0);
      expect(await db.redis.xlen(keys.log)).toBe(0);
      await waitFor(
        async () =>
          (await keysUnder(db.redis, `${keys.prefix}:rev:t:*`)).length === 0 &&
          (await keysUnder(db.redis, `${keys.prefix}:rev:u:*`)).length === 0,
        'the records expired',
      );
    });

    it('is idempotent', async () => {
      const { keys, store } = newStore();
      await store.revoke(token('a', 1_000));
      await store.revoke(token('b'));
      const later = Date.now() + 10_000;
      await tidyUntilDone(store, 10, later);
      const index = await db.redis.zrange(keys.index, 0, -1);
      const log = await db.redis.xrange(keys.log, '-', '+');

      expect(await store.tidy(10, later)).toEqual({ indexRemoved: 0, logTrimmed: 0, more: false });
      expect(await db.redis.zrange(keys.index, 0, -1)).toEqual(index);
      expect(await db.redis.xrange(keys.log, '-', '+')).toEqual(log);
    });

    it('keeps live entries and never trims the log past the oldest live one', async () => {
      const { keys, store } = newStore();
      const first = logged(await store.revoke(token('expired-first', 1_000)));
      const live = logged(await store.revoke(token('live', HOUR)));
      const after = logged(await store.revoke(token('expired-after', 1_000)));
      const liveUser = logged(await store.revoke(user('alice', Date.now(), HOUR)));

      const results = await tidyUntilDone(store, 10, Date.now() + 10_000);

      expect(results.reduce((sum, r) => sum + r.indexRemoved, 0)).toBe(2);
      expect((await db.redis.zrange(keys.index, 0, -1)).sort()).toEqual(['t:live', 'u:alice']);
      const remaining = (await db.redis.xrange(keys.log, '-', '+')).map(([id]) => id);
      expect(remaining).toEqual([live.logId, after.logId, liveUser.logId]);
      expect(remaining).not.toContain(first.logId);
      // A replica that had applied the trimmed entry still catches up incrementally.
      expect((await store.readAfter(first.logId, 10)).map((e) => e.seq)).toEqual([2, 3, 4]);
    });

    it('tidies as of an explicit time, leaving the records to their own TTL', async () => {
      const { keys, store } = newStore();
      await store.revoke(token('a', HOUR));
      await store.revoke(user('alice', Date.now(), HOUR));
      const results = await tidyUntilDone(store, 1, Date.now() + 2 * HOUR);

      expect(results.reduce((sum, r) => sum + r.indexRemoved, 0)).toBe(2);
      expect(await db.redis.zcard(keys.index)).toBe(0);
      expect(await db.redis.xlen(keys.log)).toBe(0);
      expect(await db.redis.exists(keys.record('token', 'a'))).toBe(1);
    });

    it('keeps numbering after the log was emptied', async () => {
      const { store } = newStore();
      await store.revoke(token('a', 1_000));
      await tidyUntilDone(store, 10, Date.now() + 10_000);
      const next = logged(await store.revoke(token('b')));
      expect(next.seq).toBe(2);
      expect(await store.readHead()).toMatchObject({
        epoch: next.epoch,
        seq: 2,
        logId: next.logId,
      });
    });
  });
});
