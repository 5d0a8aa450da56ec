import {
  type CheckedClaims,
  type ResyncCause,
  RevocationCache,
  RevocationSynchronizer,
  RevocationVerdict,
} from '@rescind/revocation-core';
import { type Redis } from 'ioredis';
import {
  connectRedis,
  deleteKeys,
  freshKeys,
  token,
  user,
  waitFor,
} from '../testing/store-fixtures';
import { EventCodec } from './event-codec';
import { type RedisKeys } from './redis-keys';
import { RevocationStore } from './revocation-store';

/**
 * One API replica as the Nest module wires it: a command connection for its store, a
 * subscriber connection on the channel feeding the synchroniser, and its own cache.
 */
class Replica {
  readonly commands = connectRedis();
  readonly subscriber = connectRedis();
  readonly store: RevocationStore;
  readonly cache = new RevocationCache({ maxEntries: 10_000 });
  readonly sync: RevocationSynchronizer;
  readonly causes: ResyncCause[] = [];
  readonly errors: unknown[] = [];
  /**
   * Messages to lose on the way, as Redis pub/sub may (docs/design.md, "Pub/sub is at-most-once").
   */
  dropMessages = 0;

  constructor(readonly keys: RedisKeys) {
    this.store = new RevocationStore(this.commands, keys);
    this.sync = new RevocationSynchronizer(this.cache, this.store, {
      observer: {
        onResync: (cause) => this.causes.push(cause),
        onSyncError: (error) => this.errors.push(error),
      },
    });
    this.subscriber.on('message', (channel: string, message: string) => {
      if (channel !== keys.channel) return;
      if (this.dropMessages > 0) {
        this.dropMessages--;
        return;
      }
      this.sync.onMessage(EventCodec.decodeMessage(message));
    });
  }

  async start(): Promise<this> {
    await this.subscriber.subscribe(this.keys.channel);
    await this.sync.onSubscribed();
    return this;
  }

  async disconnect(): Promise<void> {
    this.sync.onSubscriptionLost();
    await this.subscriber.unsubscribe(this.keys.channel);
  }

  async reconnect(): Promise<void> {
    await this.subscriber.subscribe(this.keys.channel);
    await this.sync.onSubscribed();
  }

  rejects(claims: Partial<CheckedClaims>): boolean {
    const full = { jti: 'some-jti', sub: 'someone', iatMs: Date.now() - 1_000, ...claims };
    return this.cache.check(full, Date.now()) === RevocationVerdict.Revoked;
  }

  async close(): Promise<void> {
    await Promise.all([this.subscriber.quit(), this.commands.quit()]);
  }
}

describe('Replicas synchronised through a real Redis', () => {
  let admin: Redis;
  let keys: RedisKeys;
  /** Another replica, or the admin API, writing to the same store. */
  let other: RevocationStore;
  const replicas: Replica[] = [];

  async function startReplica(): Promise<Replica> {
    const replica = new Replica(keys);
    replicas.push(replica);
    return replica.start();
  }

  beforeAll(() => {
    admin = connectRedis();
  });

  beforeEach(async () => {
    keys = freshKeys();
    other = new RevocationStore(admin, keys);
    // A data set created before the tokens these tests present, so its not-before is 0.
    await admin.set(keys.epoch, 'created-before-the-tokens');
  });

  afterEach(async () => {
    await Promise.all(replicas.splice(0).map((r) => r.close()));
    await deleteKeys(admin, keys.prefix);
  });

  afterAll(async () => {
    await admin.quit();
  });

  describe('when a replica starts', () => {
    it('hydrates what was revoked before, and is ready', async () => {
      const cutoffMs = Date.now();
      await other.revoke(token('old-jti'));
      await other.revoke(user('alice', cutoffMs));

      const replica = await startReplica();

      expect(replica.sync.isReady()).toBe(true);
      expect(replica.rejects({ jti: 'old-jti' })).toBe(true);
      expect(replica.rejects({ sub: 'alice', iatMs: cutoffMs })).toBe(true);
      expect(replica.rejects({ sub: 'alice', iatMs: cutoffMs + 1 })).toBe(false);
      expect(replica.sync.state.position?.seq).toBe(2);
    });
  });

  describe('when a token is revoked on another replica', () => {
    it('reaches this replica through pub/sub', async () => {
      const replica = await startReplica();
      const event = await other.revoke(token('stolen'));

      await waitFor(() => replica.rejects({ jti: 'stolen' }), 'the revocation arrived');
      expect(replica.sync.state.position?.seq).toBe(event?.seq);
      expect(replica.causes).toEqual(['startup']);
    });

    it('recovers a message lost on the way from the log', async () => {
      const replica = await startReplica();
      replica.dropMessages = 1;
      await other.revoke(token('lost'));
      await other.revoke(token('delivered'));

      await waitFor(() => replica.rejects({ jti: 'lost' }), 'the gap was filled');
      expect(replica.rejects({ jti: 'delivered' })).toBe(true);
      expect(replica.causes).toContain('gap');
    });
  });

  describe('when the subscription was lost for a while', () => {
    it('catches up on reconnection and is ready again', async () => {
      const replica = await startReplica();
      await replica.disconnect();
      await other.revoke(token('while-away'));
      await other.revoke(user('bob', Date.now()));
      expect(replica.sync.isReady()).toBe(false);

      await replica.reconnect();

      expect(replica.rejects({ jti: 'while-away' })).toBe(true);
      expect(replica.rejects({ sub: 'bob' })).toBe(true);
      expect(replica.causes).toContain('resubscribe');
      expect(replica.sync.isReady()).toBe(true);
    });

    it('re-hydrates when the worker trimmed the log past its position', async () => {
      const replica = await startReplica();
      await replica.disconnect();
      // Cut off entirely (as by a partition): no polling of the log while unsubscribed either.
      replica.sync.stop();
      await other.revoke(token('short-lived', 1_000));
      await other.revoke(token('long-lived'));
      await other.tidy(100, Date.now() + 10_000);

      await replica.reconnect();

      expect(replica.causes).toContain('log-trimmed');
      expect(replica.rejects({ jti: 'long-lived' })).toBe(true);
      expect(replica.sync.isReady()).toBe(true);
    });
  });

  describe('when this replica revokes a token itself', () => {
    it('rejects it at once, and takes its own echo as a duplicate', async () => {
      const replica = await startReplica();
      const event = await replica.store.revoke(token('mine'));
      if (event === null) throw new Error('not recorded');
      replica.sync.applyLocal(event);
      expect(replica.rejects({ jti: 'mine' })).toBe(true);

      await other.revoke(token('next'));
      await waitFor(() => replica.rejects({ jti: 'next' }), 'the next event arrived');
      expect(replica.causes).toEqual(['startup']);
    });
  });

  describe('when the store lost its data (restart without persistence)', () => {
    it('rejects every token issued before the loss, on it and on a replica started after', async () => {
      const cutoffMs = Date.now();
      const replica = await startReplica();
      const epoch = replica.sync.state.position?.epoch;
      await other.revoke(token('stolen'));
      await other.revoke(user('alice', cutoffMs));
      await waitFor(
        () => replica.rejects({ jti: 'stolen' }) && replica.rejects({ sub: 'alice' }),
        'the revocations arrived',
      );

      await deleteKeys(admin, keys.prefix);
      const newcomer = await startReplica(); // hydrates from the empty store
      await replica.sync.tick();

      expect(replica.causes).toContain('store-reset');
      expect(replica.errors).toEqual([]);
      expect(replica.sync.state.position?.epoch).not.toBe(epoch);
      expect(await admin.get(keys.epoch)).toBe(replica.sync.state.position?.epoch);
      // Ready once the new not-before is a whole second behind the clock.
      await replica.sync.tick();
      await newcomer.sync.tick();
      const readyAt = replica.cache.notBeforeMs + 1001;
      expect(replica.sync.isReady(readyAt)).toBe(true);
      expect(newcomer.sync.isReady(readyAt)).toBe(true);
      for (const r of [replica, newcomer]) {
        expect(r.rejects({ jti: 'stolen', iatMs: cutoffMs - 1 })).toBe(true);
        expect(r.rejects({ sub: 'alice', iatMs: cutoffMs })).toBe(true);
        expect(r.rejects({ jti: 'issued-after', iatMs: r.cache.notBeforeMs + 1 })).toBe(false);
      }
      expect(await other.isRevoked({ jti: 'stolen', sub: 'x', iatMs: cutoffMs - 1 })).toBe(true);
    });
  });
});
