import { performance } from 'node:perf_hooks';
import { type RevocationEvent } from '@rescind/revocation-core';
import { EventCodec, RedisKeys, RevocationStore } from '@rescind/revocation-redis';
import { Redis } from 'ioredis';
import {
  deleteKeysWithPrefix,
  TEST_REDIS_URL,
  uniqueKeyPrefix,
  waitFor as waitUntil,
} from '@rescind/testing';
import { call, readiness, type RunningTestApp, startTestApp, testModuleOptions } from '../testing';
import { REVOCATION_EVENT } from './revocation-events.controller';
import { RevocationEventDeserializer, RevocationEventsServer } from './revocation-events.server';
import { RevocationMetrics } from './revocation-metrics';
import { TokenService } from './token.service';

const EVENT: RevocationEvent = {
  kind: 'token',
  id: 'jti-1',
  expiresAtMs: 1_900_000_000_000,
  createdAtMs: 1_800_000_000_000,
  epoch: 'e-1',
  seq: 3,
  logId: '1800000000000-0',
  prevLogId: '1799999999999-0',
};

describe('RevocationEventDeserializer', () => {
  const deserializer = new RevocationEventDeserializer();
  const { logId: _logId, ...legacyData } = { ...EVENT, v: 1 };

  it('decodes a message of the event codec into an event of the revocation pattern', () => {
    expect(deserializer.deserialize(EventCodec.message(EVENT))).toEqual({
      pattern: REVOCATION_EVENT,
      data: expect.objectContaining(EVENT),
    });
  });

  it('unwraps the NestJS Redis transport framing older builds published', () => {
    const legacy = JSON.stringify({
      pattern: 'rvk:rev:events',
      data: { ...legacyData, logId: EVENT.logId },
    });
    expect(deserializer.deserialize(legacy).data).toEqual({ ...legacyData, logId: EVENT.logId });
  });

  it('hands nothing on for a request packet of that transport, nor for what is not JSON', () => {
    const request = JSON.stringify({ pattern: 'x', data: EVENT, id: 'request-1' });
    expect(deserializer.deserialize(request)).toEqual({
      pattern: REVOCATION_EVENT,
      data: undefined,
    });
    expect(deserializer.deserialize('{{{').data).toBeUndefined();
    expect(deserializer.deserialize(Buffer.from('x')).data).toBeUndefined();
  });
});

describe('RevocationEventsServer (a custom transport over one subscriber connection)', () => {
  const keyPrefix = uniqueKeyPrefix();
  const instanceId = `${keyPrefix}-solo`;
  let app: RunningTestApp;
  let admin: Redis;

  /** Connections of the shared server carrying `name`, whatever they do. */
  async function connectionsNamed(name: string): Promise<number> {
    const list = (await admin.call('CLIENT', 'LIST')) as string;
    return list.split('\n').filter((line) => line.split(' ').includes(`name=${name}`)).length;
  }

  beforeAll(async () => {
    admin = new Redis(TEST_REDIS_URL);
    app = await startTestApp('express', testModuleOptions(keyPrefix, { instanceId }));
    await waitUntil(async () => (await readiness(app.url)).ready, {
      timeoutMs: 5000,
      description: 'the replica to be ready',
    });
  });

  afterAll(async () => {
    await app?.app.close();
    await deleteKeysWithPrefix(keyPrefix);
    await admin?.quit();
  });

  it('holds one subscriber connection per replica, and no idle publisher', async () => {
    expect(await connectionsNamed(`rescind-sub-${instanceId}`)).toBe(1);
    const server = app.app.get(RevocationEventsServer);
    expect(server.unwrap<Redis>().status).toBe('ready');
    const statuses: string[] = [];
    server.status.subscribe((status) => statuses.push(status)).unsubscribe();
    expect(statuses).toEqual(['connected']);
  });

  it('dispatches an event published by another writer to the @EventPattern handler', async () => {
    // Another replica's write, through its own store and connection.
    const writer = new Redis(TEST_REDIS_URL);
    try {
      const token = app.app.get(TokenService).sign('someone').token;
      const { jti } = app.app.get(TokenService).verifyOwn(token);
      const store = new RevocationStore(writer, new RedisKeys(keyPrefix));
      await store.revoke({
        kind: 'token',
        id: jti,
        expiresAtMs: Date.now() + 60_000,
        createdAtMs: Date.now(),
      });
      const returnedAt = performance.now();
      await waitUntil(async () => (await call(app.url, '/me', { token })).status === 401, {
        timeoutMs: 2000,
        intervalMs: 0,
        description: 'the replica to reject the token revoked elsewhere',
      });
      expect(performance.now() - returnedAt).toBeLessThan(100);
    } finally {
      await writer.quit();
    }
  });

  it('counts a malformed message as the synchroniser always did', async () => {
    const malformed = app.app.get(RevocationMetrics).malformedEvents;
    const before = (await malformed.get()).values[0]?.value ?? 0;
    const channel = new RedisKeys(keyPrefix).channel;
    await admin.publish(channel, 'not json');
    await admin.publish(channel, EventCodec.message({ ...EVENT, seq: -1 }));
    await waitUntil(async () => ((await malformed.get()).values[0]?.value ?? 0) === before + 2, {
      timeoutMs: 2000,
      description: 'both messages to be counted',
    });
  });
});
