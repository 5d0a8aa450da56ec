import { MAX_ID_LENGTH } from '@rescind/revocation-core';
import { bearer, inBatches, type RedisServer, send, waitFor } from '@rescind/testing';
import { type StackReplica } from './nemesis-stack';

/** Redis drops a subscriber more than 1 KB behind (hard), or 512 B behind for 1 s (soft). */
export const TINY_PUBSUB_LIMIT = 'pubsub 1kb 512b 1';
/** Revocations flooded per check of whether Redis has dropped the subscriber yet. */
const FLOOD_STEP = 200;
/**
 * Revocations in flight: few, because Redis queues what one turn of its event loop publishes in
 * every subscriber's output buffer, and a big batch would overflow the healthy ones too.
 */
const FLOOD_IN_FLIGHT = 4;
/** Give up when the limit has not bitten after this many. */
const FLOOD_MAX = 40_000;
/** Flooded revocations expire soon, so that the worker tidies them away during the run. */
const FLOOD_TTL_S = 60;

/** What a cut did. */
export interface SubscriberCutResult {
  readonly flooded: number;
  readonly dropped: boolean;
}

/** `CLIENT LIST TYPE pubsub` ids of the subscriptions a replica holds through its proxy. */
export async function subscriptionsOf(
  redis: RedisServer,
  replica: StackReplica,
): Promise<string[]> {
  const ports = new Set(replica.proxy.upstreamLocalPorts().map(String));
  const list = await redis.cli('CLIENT', 'LIST', 'TYPE', 'pubsub');
  return list
    .split('\n')
    .map((line) => ({
      id: /(?:^|\s)id=(\d+)/.exec(line)?.[1],
      port: /(?:^|\s)addr=\S+:(\d+)/.exec(line)?.[1],
    }))
    .filter((client) => client.id !== undefined && ports.has(client.port ?? ''))
    .map((client) => client.id as string);
}

/** The `pubsub` part of Redis's current `client-output-buffer-limit`, to restore it afterwards. */
export async function currentPubsubLimit(redis: RedisServer): Promise<string> {
  const reply = await redis.cli('CONFIG', 'GET', 'client-output-buffer-limit');
  const match = /pubsub (\d+) (\d+) (\d+)/.exec(reply);
  return match === null ? 'pubsub 33554432 8388608 60' : match[0];
}

/**
 * With the subscriber of a frozen replica known, publishes revocations (admin revocations of
 * made-up, maximum-length ids, through `via`) until Redis has dropped that subscription for
 * exceeding its output-buffer limit. Revocations through HTTP go the product's whole way:
 * record, log and publish in one script.
 */
export async function floodUntilDropped(
  redis: RedisServer,
  subscriptions: readonly string[],
  via: StackReplica,
  adminKey: string,
  tag: string,
): Promise<SubscriberCutResult> {
  const stillSubscribed = async (): Promise<boolean> => {
    const ids = new Set(
      (await redis.cli('CLIENT', 'LIST', 'TYPE', 'pubsub'))
        .split('\n')
        .map((line) => /(?:^|\s)id=(\d+)/.exec(line)?.[1]),
    );
    return subscriptions.some((id) => ids.has(id));
  };
  let flooded = 0;
  while (flooded < FLOOD_MAX && (await stillSubscribed())) {
    const batch = Array.from({ length: FLOOD_STEP }, (_, index) => flooded + index);
    await inBatches(batch, FLOOD_IN_FLIGHT, async (index) => {
      const jti = `flood-${tag}-${index}-`.padEnd(MAX_ID_LENGTH, 'x');
      await send(`${via.url}/admin/revocations`, {
        method: 'POST',
        headers: { ...bearer(adminKey), 'content-type': 'application/json' },
        body: JSON.stringify({ jti, exp: Math.ceil(Date.now() / 1000) + FLOOD_TTL_S }),
      }).catch(() => undefined);
    });
    flooded += FLOOD_STEP;
  }
  return { flooded, dropped: !(await stillSubscribed()) };
}

/** Waits until the replica holds a subscription (it may still be re-subscribing after a fault). */
export async function awaitSubscriptions(
  redis: RedisServer,
  replica: StackReplica,
  timeoutMs: number,
): Promise<string[]> {
  return waitFor(
    async () => {
      const ids = await subscriptionsOf(redis, replica);
      return ids.length > 0 ? ids : undefined;
    },
    { timeoutMs, description: `${replica.label} to hold a pub/sub subscription` },
  );
}
