import { TcpProxy } from '@rescind/testing';
import { type ConnectionLogger } from './connection-log';
import { PresencePublisher, type PresencePublisherOptions } from './presence-publisher';
import { PresenceStore } from './presence-store';
import { closeRedisClient, createCommandClient } from './redis-connection';
import { type RedisKeys } from './redis-keys';
import { type ReplicaStatus } from './replica-status';
import { type RedisClient } from './redis-topology';
import { sharedRedisSuite, waitFor } from '../testing/store-fixtures';

const STARTED_AT = new Date().toISOString();

/** A replica whose position the test moves, and the status it would publish. */
class FakeReplica {
  seq = 0;
  constructor(readonly instance: string) {}

  status(): ReplicaStatus {
    return {
      instance: this.instance,
      log_position: { epoch: 'e1', seq: this.seq },
      ready: true,
      in_sync: true,
      staleness_ms: 3,
      cache_entries: this.seq,
      reported_at: new Date().toISOString(),
      started_at: STARTED_AT,
    };
  }
}

function spyLogger(): ConnectionLogger & { warn: jest.Mock; log: jest.Mock } {
  return { warn: jest.fn(), log: jest.fn() };
}

describe('PresencePublisher (against a real Redis)', () => {
  const db = sharedRedisSuite();
  const publishers: PresencePublisher[] = [];
  const clients: RedisClient[] = [];

  afterEach(async () => {
    await Promise.all(publishers.splice(0).map((publisher) => publisher.stop()));
    await Promise.all(clients.splice(0).map((client) => closeRedisClient(client)));
  });

  function publisherOf(
    replica: FakeReplica,
    options: PresencePublisherOptions & { keys?: RedisKeys; redis?: RedisClient } = {},
  ): { publisher: PresencePublisher; store: PresenceStore; keys: RedisKeys } {
    const { keys = db.keys(), redis = db.redis, ...rest } = options;
    const store = new PresenceStore(redis, keys);
    const publisher = new PresencePublisher(store, () => replica.status(), {
      logger: spyLogger(),
      ...rest,
    });
    publishers.push(publisher);
    return { publisher, store, keys };
  }

  async function seqPublished(store: PresenceStore, instance: string): Promise<number> {
    const status = (await store.list()).find((s) => s.instance === instance);
    return status?.log_position?.seq ?? -1;
  }

  describe('when a replica starts', () => {
    it('publishes its status at once under a key that lives the TTL, and lists it', async () => {
      const replica = new FakeReplica('api1');
      const { publisher, store, keys } = publisherOf(replica, {
        heartbeatMs: 60_000,
        ttlMs: 3_000,
      });
      publisher.start();
      await waitFor(async () => (await store.list()).length === 1, 'the status is listed');
      expect(await store.list()).toEqual([
        { ...replica.status(), reported_at: expect.any(String) },
      ]);
      const pttl = await db.redis.pttl(keys.presence('api1'));
      expect(pttl).toBeGreaterThan(0);
      expect(pttl).toBeLessThanOrEqual(3_000);
    });

    it('writes again on every heartbeat, so that its key never expires while it runs', async () => {
      const replica = new FakeReplica('api1');
      const { publisher, store } = publisherOf(replica, { heartbeatMs: 50, ttlMs: 150 });
      publisher.start();
      await waitFor(() => publisher.writeCount >= 10, 'ten heartbeats', 10_000);
      expect((await store.list()).map((s) => s.instance)).toEqual(['api1']);
    });
  });

  describe('when a replica stops writing (it died)', () => {
    it('drops out of the list once its TTL has passed', async () => {
      const keys = db.keys();
      const store = new PresenceStore(db.redis, keys);
      await store.publish(new FakeReplica('alive').status(), 60_000);
      await store.publish(new FakeReplica('dead').status(), 200);
      expect((await store.list()).map((s) => s.instance)).toEqual(['alive', 'dead']);
      await waitFor(async () => (await store.list()).length === 1, 'the dead one is gone');
      expect((await store.list()).map((s) => s.instance)).toEqual(['alive']);
      // ...and from the index too, not only from the answer.
      expect(await db.redis.zrange(keys.presenceIndex, 0, -1)).toEqual(['alive']);
    });
  });

  describe('when its log position moves faster than it may write', () => {
    it('coalesces the moves into at most one write per interval, the last one included', async () => {
      const replica = new FakeReplica('api1');
      const { publisher, store } = publisherOf(replica, {
        heartbeatMs: 60_000,
        minIntervalMs: 100,
      });
      publisher.start();
      const startedMs = Date.now();
      // 5,000 moves over about a second: as many revocations a second as a busy store makes.
      while (Date.now() - startedMs < 1_000) {
        for (let i = 0; i < 50; i++) {
          replica.seq++;
          publisher.notify();
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      const elapsedMs = Date.now() - startedMs;
      const last = replica.seq;
      await waitFor(
        async () => (await seqPublished(store, 'api1')) === last,
        'the last move',
        5_000,
      );
      // One write per 100 ms at most, plus the first one and the trailing one.
      expect(publisher.writeCount).toBeLessThanOrEqual(Math.ceil(elapsedMs / 100) + 2);
      expect(publisher.writeCount).toBeGreaterThanOrEqual(3);
      expect(last).toBeGreaterThan(1_000);
    });

    it('holds a move made within the interval until the interval ends', async () => {
      const replica = new FakeReplica('api1');
      const { publisher, store } = publisherOf(replica, {
        heartbeatMs: 60_000,
        // Long enough that a held write could not slip through before the checks below.
        minIntervalMs: 30_000,
      });
      publisher.start();
      // The very first write never waits: it is the leading edge.
      expect(publisher.writeCount).toBe(1);
      await waitFor(async () => (await seqPublished(store, 'api1')) === 0, 'the first status');
      replica.seq = 7;
      publisher.notify();
      publisher.notify();
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(publisher.writeCount).toBe(1);
      expect(await seqPublished(store, 'api1')).toBe(0);
    });

    it('writes the first move after a quiet spell at once, not an interval later', async () => {
      const replica = new FakeReplica('api1');
      const { publisher, store } = publisherOf(replica, {
        heartbeatMs: 60_000,
        minIntervalMs: 100,
      });
      publisher.start();
      await waitFor(async () => (await seqPublished(store, 'api1')) === 0, 'the first status');
      await new Promise((resolve) => setTimeout(resolve, 150));
      replica.seq = 1;
      publisher.notify();
      expect(publisher.writeCount).toBe(2);
    });
  });

  describe('when the replica shuts down cleanly', () => {
    it('removes its status at once', async () => {
      const replica = new FakeReplica('api1');
      const { publisher, store, keys } = publisherOf(replica, { heartbeatMs: 50 });
      publisher.start();
      await waitFor(async () => (await store.list()).length === 1, 'the status is listed');
      await publisher.stop();
      expect(await store.list()).toEqual([]);
      expect(await db.redis.exists(keys.presence('api1'), keys.presenceIndex)).toBe(0);
      // Stopped means stopped: no heartbeat writes it back.
      const writes = publisher.writeCount;
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(publisher.writeCount).toBe(writes);
      expect(await store.list()).toEqual([]);
    });
  });

  describe('when Redis cannot be reached', () => {
    it('never throws, logs once when it starts failing and once when it works again', async () => {
      const proxy = await TcpProxy.start(6379);
      try {
        const logger = spyLogger();
        const redis = createCommandClient(
          { kind: 'standalone', url: proxy.url() },
          'presence-test',
          {},
          spyLogger(),
        );
        clients.push(redis);
        await redis.connect();
        const replica = new FakeReplica('api1');
        const { publisher, store } = publisherOf(replica, {
          redis,
          heartbeatMs: 50,
          minIntervalMs: 10,
          logger,
        });
        publisher.start();
        await waitFor(async () => (await store.list()).length === 1, 'the status is listed');

        proxy.reset();
        const failingFrom = publisher.writeCount;
        for (let i = 0; i < 100; i++) {
          replica.seq++;
          expect(() => publisher.notify()).not.toThrow();
        }
        await waitFor(() => publisher.writeCount >= failingFrom + 10, 'ten failing writes', 10_000);
        expect(logger.warn.mock.calls).toEqual([
          [expect.stringMatching(/^presence: cannot publish the replica status \(/)],
        ]);
        expect(logger.log).not.toHaveBeenCalled();

        proxy.heal();
        const last = replica.seq;
        await waitFor(
          async () =>
            (await seqPublished(new PresenceStore(db.redis, store.keys), 'api1')) === last,
          'the status written again',
          10_000,
        );
        expect(logger.log.mock.calls).toEqual([['presence: publishing the replica status again']]);
        expect(logger.warn).toHaveBeenCalledTimes(1);
      } finally {
        await Promise.all(publishers.splice(0).map((publisher) => publisher.stop()));
        await proxy.close();
      }
    });
  });
});
