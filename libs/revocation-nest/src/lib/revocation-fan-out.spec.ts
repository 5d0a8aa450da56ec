import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { type Registry } from 'prom-client';
import { deleteKeysWithPrefix, TEST_REDIS_URL, uniqueKeyPrefix, waitFor } from '@rescind/testing';
import {
  call,
  type RunningTestApp,
  startTestApp,
  testModuleOptions,
  waitUntilReady,
} from '../testing';
import { RESCIND_METRICS_REGISTRY } from './revocation.module';
import { TokenService } from './token.service';

/** Fan-out (README, "Guarantees and their limits"): other ready replicas reject within 100 ms. */
const FAN_OUT_BUDGET_MS = 100;

interface ClientInfo {
  readonly id: string;
  readonly name: string;
}

/** `CLIENT LIST TYPE pubsub` of the shared server, parsed. */
async function pubsubClients(admin: Redis): Promise<ClientInfo[]> {
  const list = (await admin.call('CLIENT', 'LIST', 'TYPE', 'pubsub')) as string;
  return list
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const fields = new Map(
        line
          .trim()
          .split(' ')
          .map((pair) => {
            const at = pair.indexOf('=');
            return [pair.slice(0, at), pair.slice(at + 1)] as const;
          }),
      );
      return { id: fields.get('id') ?? '', name: fields.get('name') ?? '' };
    });
}

/** The subscriber connection of the replica named `instanceId`, if connected. */
async function subscriberOf(admin: Redis, instanceId: string): Promise<ClientInfo | undefined> {
  return (await pubsubClients(admin)).find((c) => c.name === `rescind-sub-${instanceId}`);
}

/**
 * `CLIENT KILL TYPE pubsub`, narrowed by `ID` to the subscriber connections of these replicas:
 * other suites may share the server, and killing their subscriptions would make them flaky.
 */
async function killSubscribers(admin: Redis, instanceIds: readonly string[]): Promise<number> {
  let killed = 0;
  for (const instanceId of instanceIds) {
    const client = await subscriberOf(admin, instanceId);
    if (client === undefined) continue;
    killed += (await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub', 'ID', client.id)) as number;
  }
  return killed;
}

async function resyncCount(app: RunningTestApp, cause: string): Promise<number> {
  const registry = app.app.get<Registry>(RESCIND_METRICS_REGISTRY);
  const metric = registry.getSingleMetric('rescind_resyncs_total');
  if (metric === undefined) return 0;
  const { values } = await metric.get();
  return values.find((v) => v.labels['cause'] === cause)?.value ?? 0;
}

describe('two replicas sharing one Redis (Express and Fastify)', () => {
  const keyPrefix = uniqueKeyPrefix();
  const idA = `${keyPrefix}-a`;
  const idB = `${keyPrefix}-b`;
  let a: RunningTestApp;
  let b: RunningTestApp;
  let admin: Redis;

  const issue = (sub: string): string => a.app.get(TokenService).sign(sub).token;

  /** Polls `replica` back to back until it rejects `token`; returns the ms elapsed since `fromMs`. */
  async function msUntilRejected(replica: RunningTestApp, token: string, fromMs: number) {
    await waitFor(async () => (await call(replica.url, '/me', { token })).status === 401, {
      timeoutMs: 5000,
      intervalMs: 0,
      description: `${replica.platform} replica to reject the revoked token`,
    });
    return performance.now() - fromMs;
  }

  beforeAll(async () => {
    admin = new Redis(TEST_REDIS_URL);
    a = await startTestApp('express', testModuleOptions(keyPrefix, { instanceId: idA }));
    b = await startTestApp('fastify', testModuleOptions(keyPrefix, { instanceId: idB }));
    await waitUntilReady([a, b]);
  });

  afterAll(async () => {
    await a?.app.close();
    await b?.app.close();
    await deleteKeysWithPrefix(keyPrefix);
    await admin?.quit();
  });

  describe('when a token is revoked on one replica', () => {
    it.each([
      ['A (Express)', 'B (Fastify)', () => [a, b] as const],
      ['B (Fastify)', 'A (Express)', () => [b, a] as const],
    ])(
      'is rejected by the other within the propagation budget: %s → %s',
      async (_from, _to, pick) => {
        const [origin, other] = pick();
        for (let round = 0; round < 5; round++) {
          const token = issue(`fan-out-${round}`);
          expect((await call(other.url, '/me', { token })).status).toBe(200);
          expect((await call(origin.url, '/logout', { method: 'POST', token })).status).toBe(204);
          const returnedAt = performance.now();
          expect((await call(origin.url, '/me', { token })).status).toBe(401);
          expect(await msUntilRejected(other, token, returnedAt)).toBeLessThan(FAN_OUT_BUDGET_MS);
        }
      },
    );
  });

  describe('when a session ends on one replica', () => {
    it.each([
      ['A (Express)', 'B (Fastify)', () => [a, b] as const],
      ['B (Fastify)', 'A (Express)', () => [b, a] as const],
    ])(
      'every token of that session is rejected by the other within the budget: %s → %s',
      async (_from, _to, pick) => {
        const [origin, other] = pick();
        const tokens = a.app.get(TokenService);
        for (let round = 0; round < 3; round++) {
          const sid = `sid-${_from.charAt(0)}-${round}-${keyPrefix}`;
          const first = tokens.sign('heidi', { sid }).token;
          const second = tokens.sign('heidi', { sid }).token;
          const otherSession = tokens.sign('heidi', { sid: `${sid}-other` }).token;
          const noSession = tokens.sign('heidi').token;
          for (const token of [first, second]) {
            expect((await call(other.url, '/me', { token })).status).toBe(200);
          }

          const ended = await call(origin.url, '/logout-session', {
            method: 'POST',
            token: first,
          });
          expect(ended.status).toBe(204);
          const returnedAt = performance.now();
          // Read your revocation: the answering replica rejects at once, both tokens.
          expect((await call(origin.url, '/me', { token: first })).status).toBe(401);
          expect((await call(origin.url, '/me', { token: second })).status).toBe(401);
          expect(await msUntilRejected(other, second, returnedAt)).toBeLessThan(FAN_OUT_BUDGET_MS);
          expect((await call(other.url, '/me', { token: first })).status).toBe(401);
          // Nothing else of the user is touched.
          for (const replica of [origin, other]) {
            expect((await call(replica.url, '/me', { token: otherSession })).status).toBe(200);
            expect((await call(replica.url, '/me', { token: noSession })).status).toBe(200);
          }
        }
      },
    );

    it('refuses to end the session of a token that has none, with 400', async () => {
      const token = issue('ivan');
      const answer = await call(a.url, '/logout-session', { method: 'POST', token });
      expect(answer.status).toBe(400);
      expect((await call(a.url, '/me', { token })).status).toBe(200);
    });
  });

  describe('when the user logs out everywhere on one replica', () => {
    it('the other rejects the old token within the budget and accepts the new one', async () => {
      const before = issue('erin');
      expect((await call(a.url, '/logout-all', { method: 'POST', token: before })).status).toBe(
        204,
      );
      const returnedAt = performance.now();
      const after = issue('erin');
      expect(await msUntilRejected(b, before, returnedAt)).toBeLessThan(FAN_OUT_BUDGET_MS);
      expect((await call(b.url, '/me', { token: after })).status).toBe(200);
    });
  });

  describe('when the subscriber connections are killed', () => {
    it('catches up on what was published meanwhile and becomes ready again', async () => {
      const resubscribesBefore = await resyncCount(b, 'resubscribe');
      const subscriberBefore = await subscriberOf(admin, idB);
      expect(subscriberBefore).toBeDefined();
      const token = issue('frank');
      expect((await call(b.url, '/me', { token })).status).toBe(200);

      expect(await killSubscribers(admin, [idA, idB])).toBe(2);
      // Published while B has no subscription: only a catch-up can bring it.
      expect((await call(a.url, '/logout', { method: 'POST', token })).status).toBe(204);
      expect((await call(a.url, '/me', { token })).status).toBe(401);

      await msUntilRejected(b, token, performance.now());
      await waitUntilReady([a, b]);
      const subscriberAfter = await subscriberOf(admin, idB);
      expect(subscriberAfter?.id).toBeDefined();
      expect(subscriberAfter?.id).not.toBe(subscriberBefore?.id);
      expect(await resyncCount(b, 'resubscribe')).toBeGreaterThan(resubscribesBefore);
    });

    it('propagates live again within the budget once resubscribed', async () => {
      await waitUntilReady([a, b]);
      const token = issue('grace');
      expect((await call(a.url, '/logout', { method: 'POST', token })).status).toBe(204);
      const returnedAt = performance.now();
      expect(await msUntilRejected(b, token, returnedAt)).toBeLessThan(FAN_OUT_BUDGET_MS);
    });
  });
});
