import { parseRevocationEvent } from '@rescind/revocation-core';
import { waitFor } from '@rescind/testing';
import { connectRedis, sharedRedisSuite, token, user } from '../testing/store-fixtures';
import { EVENT_FIELDS, EventCodec, V1_BODY_FIELD } from './event-codec';
import { RevocationStore, withOrigin } from './revocation-store';
import { type RedisKeys } from './redis-keys';
import { SessionStore } from './session-store';

describe('the origin of a revocation (against a real Redis)', () => {
  const db = sharedRedisSuite();

  /** A store of region `eu` on fresh keys, and the first message its channel carries. */
  async function withRegionStore(
    run: (region: {
      keys: RedisKeys;
      store: RevocationStore;
      firstMessage: () => Promise<Record<string, unknown>>;
    }) => Promise<void>,
  ): Promise<void> {
    const keys = db.keys();
    const store = new RevocationStore(db.redis, keys, { region: 'eu' });
    const subscriber = connectRedis();
    const messages: string[] = [];
    subscriber.on('message', (_channel: string, message: string) => messages.push(message));
    await subscriber.subscribe(keys.channel);
    const firstMessage = async (): Promise<Record<string, unknown>> => {
      await waitFor(() => messages.length > 0, { timeoutMs: 5_000, description: 'a message' });
      return EventCodec.decodeMessage(messages[0] as string) as Record<string, unknown>;
    };
    try {
      await run({ keys, store, firstMessage });
    } finally {
      await subscriber.quit();
    }
  }

  it('is the store region, in the log entry, the record and the message', async () => {
    await withRegionStore(async ({ keys, store, firstMessage }) => {
      const event = await store.revoke(token('jti-1'), { reason: 'logout', actor: 'self' });
      expect(event).not.toBeNull();
      const [[, fields]] = (await db.redis.xrange(keys.log, '-', '+')) as [[string, string[]]];
      expect(EventCodec.originOf(fields)).toBe('eu');
      expect(await store.readMarkedAfter('0-0', 10)).toEqual([
        { entry: expect.objectContaining({ id: 'jti-1', seq: 1 }), origin: 'eu' },
      ]);
      expect(await store.find('jti-1', ['token'])).toEqual([
        expect.objectContaining({ reason: 'logout', actor: 'self', origin: 'eu' }),
      ]);
      const message = await firstMessage();
      expect(message[EVENT_FIELDS.origin]).toBe('eu');
      // Replicas of any build read the message as before: the field is one they ignore.
      expect(parseRevocationEvent(message)).toMatchObject({ kind: 'token', id: 'jti-1' });
    });
  });

  it('brings the reason and actor into the log entry, not into the message', async () => {
    await withRegionStore(async ({ keys, store, firstMessage }) => {
      const reason = 'stolen: '.padEnd(512, 'x');
      const event = await store.revoke(user('carol', Date.now()), { reason, actor: 'admin' });
      const [[logId, fields]] = (await db.redis.xrange(keys.log, '-', '+')) as [[string, string[]]];
      expect(EventCodec.auditOf(fields)).toEqual({ reason, actor: 'admin' });
      // Replicas read the entry as the same event: the audit's fields are not decoded for them.
      expect(EventCodec.logEntry(logId, fields)).toEqual(event);
      const message = await firstMessage();
      expect(message).not.toHaveProperty(EVENT_FIELDS.reason);
      expect(message).not.toHaveProperty(EVENT_FIELDS.actor);
      expect(message[EVENT_FIELDS.origin]).toBe('eu');
      expect(parseRevocationEvent(message)).toEqual(event);
    });
  });

  it('logs the reason and actor of what a session script revokes on the way', async () => {
    const keys = db.keys();
    const store = new RevocationStore(db.redis, keys);
    await store.readHead();
    const sessions = new SessionStore(db.redis, keys, { region: 'eu' });
    await sessions.endAll(user('dave', Date.now()), { reason: 'logout-all', actor: 'self' });
    const [[, fields]] = (await db.redis.xrange(keys.log, '-', '+')) as [[string, string[]]];
    expect(EventCodec.auditOf(fields)).toEqual({ reason: 'logout-all', actor: 'self' });
  });

  it('leaves the reason and actor out of the entry of a revocation without origin', async () => {
    const keys = db.keys();
    const store = new RevocationStore(db.redis, keys);
    await store.revoke(token('jti-4'), { reason: 'logout', actor: 'self' });
    const [[, fields]] = (await db.redis.xrange(keys.log, '-', '+')) as [[string, string[]]];
    expect(EventCodec.auditOf(fields)).toEqual({});
    // Exactly the entry a build without regions writes: the event's fields and its position.
    expect(fields.filter((_, i) => i % 2 === 0)).toEqual([
      EVENT_FIELDS.version,
      EVENT_FIELDS.kind,
      EVENT_FIELDS.id,
      EVENT_FIELDS.expiresAtMs,
      EVENT_FIELDS.createdAtMs,
      EVENT_FIELDS.epoch,
      EVENT_FIELDS.seq,
      EVENT_FIELDS.prevLogId,
    ]);
    expect((await store.find('jti-4', ['token']))[0]).toMatchObject({
      reason: 'logout',
      actor: 'self',
    });
  });

  it('is the one the audit names when it names one (a bridge applying a peer)', async () => {
    const keys = db.keys();
    const store = new RevocationStore(db.redis, keys, { region: 'eu' });
    await store.revoke(user('alice', Date.now()), { origin: 'us' });
    const [marked] = await store.readMarkedAfter('0-0', 10);
    expect(marked?.origin).toBe('us');
    expect((await store.find('alice', ['user']))[0]?.origin).toBe('us');
  });

  it('is the region of the session store too (logout everywhere)', async () => {
    const keys = db.keys();
    const store = new RevocationStore(db.redis, keys);
    await store.readHead();
    await new SessionStore(db.redis, keys, { region: 'eu' }).endAll(user('bob', Date.now()), {});
    const [marked] = await store.readMarkedAfter('0-0', 10);
    expect(marked).toMatchObject({ entry: { kind: 'user', id: 'bob' }, origin: 'eu' });
  });

  it('is absent without a region, and in entries of the first wire format', async () => {
    const keys = db.keys();
    const store = new RevocationStore(db.redis, keys);
    await store.revoke(token('jti-2'));
    const revocation = token('jti-3');
    await db.redis.xadd(
      keys.log,
      '*',
      V1_BODY_FIELD,
      JSON.stringify({ v: 1, ...revocation, epoch: 'e', seq: 2 }),
    );
    const marked = await store.readMarkedAfter('0-0', 10);
    expect(marked.map((m) => m.origin)).toEqual([undefined, undefined]);
    expect(marked.map((m) => m.entry.kind)).toEqual(['token', 'token']);
    const [record] = await store.find('jti-2', ['token']);
    expect(record).not.toHaveProperty('origin');
  });

  it('is added to an audit that names none, and only when there is a region', () => {
    expect(withOrigin({ actor: 'self' }, 'eu')).toEqual({ actor: 'self', origin: 'eu' });
    expect(withOrigin({ origin: 'us' }, 'eu')).toEqual({ origin: 'us' });
    expect(withOrigin({ actor: 'self' }, undefined)).toEqual({ actor: 'self' });
  });
});
