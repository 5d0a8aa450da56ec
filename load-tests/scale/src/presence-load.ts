/**
 * What fleet presence costs the store (docs/design.md, "Fleet presence"): `--replicas` presence
 * publishers (the library's own, on a pool of command connections) against a private
 * redis-server, idle (heartbeats only), then with every replica's position moving 1,000 times a
 * second, then the read behind `GET /admin/replicas` while they publish.
 *
 *   npm run build --silent && node dist/load-tests/scale/src/presence-load.js [--replicas 1000]
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  closeRedisClient,
  createCommandClient,
  PresencePublisher,
  PresenceStore,
  RedisKeys,
  type RedisClient,
} from '@rescind/revocation-redis';
import { RedisServer } from '@rescind/testing';
import { Redis } from 'ioredis';
import { sampleRedis, usageBetween } from './redis-probe';

const CONNECTIONS = 20;
const PHASE_MS = 10_000;
const QUIET = { warn: (message: string) => console.error(message), log: () => undefined };

function replicasOption(argv: readonly string[]): number {
  const at = argv.indexOf('--replicas');
  const value = at === -1 ? 1000 : Number(argv[at + 1]);
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError('--replicas must be >= 1');
  return value;
}

async function main(): Promise<void> {
  const replicas = replicasOption(process.argv.slice(2));
  const server = await RedisServer.start({ appendonly: false });
  const probe = new Redis(server.url);
  const clients: RedisClient[] = [];
  const publishers: PresencePublisher[] = [];
  try {
    const keys = new RedisKeys('presence-load');
    for (let i = 0; i < CONNECTIONS; i++) {
      const client = createCommandClient(
        { kind: 'standalone', url: server.url },
        `p${i}`,
        {},
        QUIET,
      );
      await client.connect();
      clients.push(client);
    }
    const startedAt = new Date().toISOString();
    const seqs = new Array<number>(replicas).fill(0);
    for (let i = 0; i < replicas; i++) {
      const store = new PresenceStore(clients[i % CONNECTIONS] as RedisClient, keys);
      const status = () => ({
        instance: `api-${String(i).padStart(5, '0')}`,
        region: 'eu',
        log_position: { epoch: 'e1', seq: seqs[i] as number },
        ready: true,
        in_sync: true,
        staleness_ms: 3,
        cache_entries: 1000,
        reported_at: new Date().toISOString(),
        started_at: startedAt,
      });
      publishers.push(new PresencePublisher(store, status, { logger: QUIET }));
    }
    for (const publisher of publishers) publisher.start();
    await sleep(2_000);

    const writes = (): number => publishers.reduce((sum, p) => sum + p.writeCount, 0);
    const phase = async (label: string, during: () => () => void): Promise<void> => {
      const before = await sampleRedis(probe);
      const writesBefore = writes();
      const stop = during();
      await sleep(PHASE_MS);
      stop();
      const usage = usageBetween(before, await sampleRedis(probe));
      const written = writes() - writesBefore;
      const perSecond = written / usage.seconds;
      console.log(
        `${label}: ${replicas} replicas, ${perSecond.toFixed(0)} status writes/s ` +
          `(${(perSecond / replicas).toFixed(2)} per replica); Redis ` +
          `${(usage.cores * 100).toFixed(1)}% of a core, ` +
          `${((usage.cpuSeconds * 1e6) / Math.max(1, written)).toFixed(1)} µs per write, ` +
          `${(usage.commands / usage.seconds).toFixed(0)} commands/s`,
      );
    };
    await phase('idle (heartbeats only)', () => () => undefined);
    await phase('every position moving 1,000 times a second', () => {
      const timer = setInterval(() => {
        for (let i = 0; i < replicas; i++) {
          seqs[i] = (seqs[i] as number) + 10;
          (publishers[i] as PresencePublisher).notify();
        }
      }, 10);
      return () => clearInterval(timer);
    });
    const lister = new PresenceStore(clients[0] as RedisClient, keys);
    const from = performance.now();
    let reads = 0;
    while (performance.now() - from < 2_000) {
      await lister.list();
      reads++;
    }
    console.log(
      `the fleet read (GET /admin/replicas) of ${replicas} statuses: ` +
        `${((performance.now() - from) / reads).toFixed(1)} ms each, while they publish`,
    );
  } finally {
    await Promise.all(publishers.map((publisher) => publisher.stop()));
    await Promise.all(clients.map((client) => closeRedisClient(client)));
    probe.disconnect();
    await server.dispose();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
