import { parseRevocationEvent, type RevocationEvent } from '@rescind/revocation-core';
import { type Redis } from 'ioredis';
import {
  connectRedis,
  deleteKeys,
  freshKeys,
  HOUR,
  session,
  token,
  user,
  waitFor,
} from '../testing/store-fixtures';
import { EVENT_FIELDS, EventCodec, V1_BODY_FIELD, WIRE_VERSION } from './event-codec';
import { type RedisKeys } from './redis-keys';
import { RevocationStore } from './revocation-store';

/** The fields of one stream entry, by name. */
function byName(flat: readonly string[]): Map<string, string> {
  const fields = new Map<string, string>();
  for (let i = 0; i < flat.length; i += 2) fields.set(flat[i] as string, flat[i + 1] as string);
  return fields;
}

describe('EventCodec', () => {
  describe('without Redis', () => {
    const event: RevocationEvent = {
      kind: 'user',
      id: 'alice',
      cutoffMs: 1_700_000_000_123,
      expiresAtMs: 1_700_000_900_000,
      createdAtMs: 1_700_000_000_100,
      epoch: 'e-1',
      seq: 7,
      logId: '1700000000100-3',
      prevLogId: '1700000000100-2',
    };

    it('round-trips an event through its log fields and its message', () => {
      expect(EventCodec.logEntry(event.logId, EventCodec.logFields(event))).toEqual(event);
      expect(parseRevocationEvent(EventCodec.decodeMessage(EventCodec.message(event)))).toEqual(
        event,
      );
    });

    it('round-trips a session end, which has no cut-off', () => {
      const { cutoffMs: _cutoffMs, ...rest } = event;
      const ended: RevocationEvent = { ...rest, kind: 'session', id: 'sid-1' };
      expect(byName(EventCodec.logFields(ended)).has(EVENT_FIELDS.cutoffMs)).toBe(false);
      expect(EventCodec.logEntry(ended.logId, EventCodec.logFields(ended))).toEqual(ended);
      expect(parseRevocationEvent(EventCodec.decodeMessage(EventCodec.message(ended)))).toEqual(
        ended,
      );
    });

    it('writes every value as a string, so that no Lua number formatting touches it', () => {
      const values = Object.values(JSON.parse(EventCodec.message(event)) as object);
      expect(values.every((value) => typeof value === 'string')).toBe(true);
    });

    it('reads an entry of the first wire format (the event as JSON in one field)', () => {
      const { logId, ...body } = event;
      const entry = EventCodec.logEntry(logId, [V1_BODY_FIELD, JSON.stringify({ v: 1, ...body })]);
      expect(entry).toEqual(event);
    });

    it.each([
      ['a number with a leading zero', { [EVENT_FIELDS.seq]: '07' }, 'bad seq'],
      ['a fraction', { [EVENT_FIELDS.expiresAtMs]: '1.5' }, 'bad expiresAtMs'],
      ['an empty number', { [EVENT_FIELDS.createdAtMs]: '' }, 'bad createdAtMs'],
      // As a build before sessions reads a `session` entry: it fills its number, nothing else.
      ['an unknown kind', { [EVENT_FIELDS.kind]: 'device' }, 'unknown kind'],
    ])('leaves %s to validation, which steps over the entry', (_what, change, reason) => {
      const fields = byName(EventCodec.logFields(event));
      for (const [name, value] of Object.entries(change)) fields.set(name, value);
      const entry = EventCodec.logEntry(event.logId, [...fields].flat());
      expect(entry).toMatchObject({ kind: 'unreadable', reason: expect.stringContaining(reason) });
      // The position it took is still read, so that it fills its number.
      if (!(EVENT_FIELDS.seq in change)) expect(entry).toMatchObject({ seq: 7 });
    });

    it('keeps a `__proto__` key of a message a plain property', () => {
      const decoded = EventCodec.decodeMessage('{"__proto__":{"kind":"token"},"v":"2"}') as object;
      expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
      expect((decoded as { kind?: unknown }).kind).toBeUndefined();
    });

    it('writes a record without the position an event carries, and reads back the one stored', () => {
      const written = JSON.parse(EventCodec.record({ ...event, actor: 'replica' })) as object;
      expect(written).toEqual({
        kind: 'user',
        id: 'alice',
        cutoffMs: event.cutoffMs,
        expiresAtMs: event.expiresAtMs,
        createdAtMs: event.createdAtMs,
        actor: 'replica',
      });
      // What the revoke script stores: the record with the position it logged it under.
      const stored = JSON.stringify({ ...written, epoch: 'e-2', seq: 9 });
      expect(EventCodec.recordOf(stored)).toEqual({
        ...written,
        position: { epoch: 'e-2', seq: 9 },
      });
      const odd = JSON.stringify({ ...written, epoch: 5, seq: '9' });
      expect(EventCodec.recordOf(odd)).toEqual(written);
    });

    it('hands non-JSON and non-objects to validation as they are', () => {
      expect(EventCodec.decodeMessage('{{{')).toBeUndefined();
      expect(EventCodec.decodeMessage('[1]')).toEqual([1]);
      expect(EventCodec.decodeMessage('42')).toBe(42);
    });
  });

  describe('against the Lua scripts of a real Redis', () => {
    let redis: Redis;
    let subscriber: Redis;
    let keys: RedisKeys;
    let store: RevocationStore;
    const messages: string[] = [];

    beforeAll(async () => {
      redis = connectRedis();
      subscriber = connectRedis();
      keys = freshKeys();
      store = new RevocationStore(redis, keys);
      subscriber.on('message', (channel: string, message: string) => {
        if (channel === keys.channel) messages.push(message);
      });
      await subscriber.subscribe(keys.channel);
    });

    afterAll(async () => {
      await deleteKeys(redis, keys.prefix);
      await Promise.all([redis.quit(), subscriber.quit()]);
    });

    it.each([
      ['a token', token('jti-round-trip')],
      ['a session end', session('sid-round-trip')],
      // Beyond the 14 significant digits Lua's cjson prints numbers with.
      [
        'a user cut-off',
        { ...user('alice', 1_234_567_890_123_456), createdAtMs: 9_007_199_254_740 },
      ],
    ])(
      'writes %s under exactly the field names of the codec, and reads it back',
      async (_what, revocation) => {
        messages.length = 0;
        const event = await store.revoke(revocation);
        if (event === null) throw new Error('not recorded');
        await waitFor(() => messages.length > 0, 'the event was published');

        const [[logId, flat]] = (await redis.xrange(keys.log, event.logId, event.logId)) as [
          [string, string[]],
        ];
        // Every property of the event, under the codec's name, as a decimal string: a name the
        // script spelled itself, or a number it formatted, would show here.
        const expected = new Map<string, string>([[EVENT_FIELDS.version, String(WIRE_VERSION)]]);
        for (const [property, value] of Object.entries(event)) {
          if (property === 'logId') continue;
          expected.set(EVENT_FIELDS[property as keyof typeof EVENT_FIELDS], String(value));
        }
        expect(byName(flat)).toEqual(expected);
        expect(EventCodec.logEntry(logId, flat)).toEqual(event);
        expect(await store.readAfter(event.prevLogId ?? '0-0', 1)).toEqual([event]);

        const message = JSON.parse(messages[0] as string) as Record<string, unknown>;
        expect(message).toEqual({ ...Object.fromEntries(expected), [EVENT_FIELDS.logId]: logId });
        expect(parseRevocationEvent(EventCodec.decodeMessage(messages[0] as string))).toEqual(
          event,
        );
      },
    );
  });

  describe('during a rolling upgrade (entries of both wire formats in one log)', () => {
    it('reads what an older build logged, and links the next entry to it', async () => {
      const redis = connectRedis();
      const keys = freshKeys();
      try {
        const store = new RevocationStore(redis, keys);
        const { epoch } = await store.readHead();
        // What the previous build's revoke script appended: one field holding the event as JSON.
        const old = token('logged-by-v1');
        await redis.incr(keys.seq);
        const oldId = await redis.xadd(
          keys.log,
          '*',
          V1_BODY_FIELD,
          JSON.stringify({ v: 1, epoch, seq: 1, prevLogId: '0-0', ...old }),
        );
        const next = await store.revoke(token('logged-by-v2'));

        expect(next).toMatchObject({ seq: 2, prevLogId: oldId });
        expect(await store.readAfter('0-0', 10)).toEqual([
          { ...old, epoch, seq: 1, logId: oldId, prevLogId: '0-0' },
          next,
        ]);
      } finally {
        await deleteKeys(redis, keys.prefix);
        await redis.quit();
      }
    });
  });

  describe('when the log is tidied (the expiry read by its field name)', () => {
    let redis: Redis;
    let keys: RedisKeys;
    let store: RevocationStore;

    beforeEach(() => {
      redis = connectRedis();
      keys = freshKeys();
      store = new RevocationStore(redis, keys);
    });

    afterEach(async () => {
      await deleteKeys(redis, keys.prefix);
      await redis.quit();
    });

    function forged(seq: number, expiresAtMs: number, id = `forged-${seq}`): RevocationEvent {
      return {
        kind: 'token',
        id,
        expiresAtMs,
        createdAtMs: 1,
        epoch: 'e',
        seq,
        logId: '0-0',
        prevLogId: '0-0',
      };
    }

    it('stops at the oldest entry whose expiry field is still live, whatever else it holds', async () => {
      const now = Date.now();
      // An id that looks like an expiry, on an expired entry: only the field counts.
      await redis.xadd(
        keys.log,
        '*',
        ...EventCodec.logFields(forged(1, now - 1, 'x"expiresAtMs":99999999999999')),
      );
      const live = await redis.xadd(keys.log, '*', ...EventCodec.logFields(forged(2, now + HOUR)));
      await redis.xadd(keys.log, '*', ...EventCodec.logFields(forged(3, now - 1)));

      expect(await store.tidy(10, now)).toEqual({ indexRemoved: 0, logTrimmed: 1, more: false });
      expect((await redis.xrange(keys.log, '-', '+')).map(([id]) => id)[0]).toBe(live);
    });

    it('reads the expiry of entries of the first wire format too', async () => {
      const now = Date.now();
      const v1 = (seq: number, expiresAtMs: number): string[] => {
        const { logId: _logId, ...body } = forged(seq, expiresAtMs);
        return [V1_BODY_FIELD, JSON.stringify({ ...body, v: 1 })];
      };
      await redis.xadd(keys.log, '*', ...v1(1, now - 1));
      const live = await redis.xadd(keys.log, '*', ...v1(2, now + HOUR));

      expect(await store.tidy(10, now)).toEqual({ indexRemoved: 0, logTrimmed: 1, more: false });
      expect((await redis.xrange(keys.log, '-', '+')).map(([id]) => id)).toEqual([live]);
      expect(await store.readAfter('0-0', 10)).toMatchObject([{ seq: 2, logId: live }]);
    });

    it('trims past entries with no readable expiry (garbage keeps nothing alive)', async () => {
      await redis.xadd(keys.log, '*', 'x', 'y');
      await redis.xadd(keys.log, '*', V1_BODY_FIELD, '{not json');
      expect(await store.tidy(10, Date.now())).toMatchObject({ logTrimmed: 2 });
    });
  });
});
