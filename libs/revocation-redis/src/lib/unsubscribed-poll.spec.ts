import {
  RevocationCache,
  type RevocationSource,
  RevocationSynchronizer,
  RevocationVerdict,
} from '@rescind/revocation-core';
import { sharedRedisSuite, token, waitFor } from '../testing/store-fixtures';
import { RevocationStore } from './revocation-store';

/**
 * A replica whose subscription is down polls the log instead (docs/design.md, "Pub/sub is
 * at-most-once"). A fleet whose subscriptions all drop at once (a restart, a failover, `CLIENT
 * KILL TYPE pubsub`) must not keep every replica polling 40 times a second while it reconnects:
 * the scale simulation's reconnect storm (load-tests/scale/README.md).
 */
describe('RevocationSynchronizer while its subscription is down (against a real Redis)', () => {
  const db = sharedRedisSuite('all');

  it('polls quickly at first, then backs off, and still applies what is revoked meanwhile', async () => {
    const keys = db.keys();
    const store = new RevocationStore(db.redis, keys);
    let polls = 0;
    const counting: RevocationSource = {
      readHead: () => {
        polls++;
        return store.readHead();
      },
      snapshot: (onPage) => store.snapshot(onPage),
      readAfter: (logId, limit) => store.readAfter(logId, limit),
      restore: (revocations) => store.restore(revocations),
      raiseNotBefore: (notBeforeMs) => store.raiseNotBefore(notBeforeMs),
    };
    const cache = new RevocationCache({ maxEntries: 1000 });
    const sync = new RevocationSynchronizer(cache, counting);
    try {
      await sync.onSubscribed();
      sync.onSubscriptionLost();
      polls = 0;
      const lostAt = performance.now();
      await waitFor(() => polls >= 10, 'ten polls of the log', 10_000);
      // Ten polls at 25 ms would take about a quarter of a second; backed off they take seconds.
      expect(performance.now() - lostAt).toBeGreaterThan(1_500);

      // Polls still come at least once per anti-entropy period (1 s by default): a revocation
      // made while unsubscribed still arrives, within the staleness bound.
      const revoked = token('while-unsubscribed');
      await store.revoke(revoked);
      const check = () =>
        cache.check({ jti: revoked.id, sub: 'someone', iatMs: Date.now() - 1000 }, Date.now());
      await waitFor(() => check() === RevocationVerdict.Revoked, 'the revocation applied', 3_000);
      expect(sync.isReady()).toBe(false);
      expect(sync.isStale()).toBe(false);

      await sync.onSubscribed();
      expect(sync.isReady()).toBe(true);
    } finally {
      sync.stop();
    }
  }, 20_000);
});
