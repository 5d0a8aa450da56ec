import { RedisServer, TcpProxy, waitFor, WorkerProcess } from '@rescind/testing';
import { Redis } from 'ioredis';

// Runs the built worker (`npm run build` first), as a deployment would.
const REDIS_URL = 'redis://127.0.0.1:6379';

describe('the worker process', () => {
  const keyPrefix = `worker${process.pid}x${Date.now()}`;
  const redis = new Redis(REDIS_URL, { lazyConnect: true });

  afterAll(async () => {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${keyPrefix}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== '0');
    await redis.quit();
  });

  it('starts in production without JWT_SECRET, which it never uses', async () => {
    const worker = await WorkerProcess.start({
      env: {
        NODE_ENV: 'production',
        JWT_SECRET: undefined,
        REDIS_URL,
        KEY_PREFIX: keyPrefix,
        WORKER_METRICS_PORT: '0',
      },
      readyTimeoutMs: 20_000,
    });
    try {
      expect(worker.process.running).toBe(true);
    } finally {
      expect(await worker.stop('SIGTERM')).toBe(0);
    }
  }, 30_000);

  it('still refuses an invalid shared variable, naming it', async () => {
    const worker = await WorkerProcess.spawn({
      env: { NODE_ENV: 'production', REDIS_URL: 'http://x', KEY_PREFIX: keyPrefix },
    });
    const exit = await worker.exited;
    expect(exit.code).toBe(2);
    expect(worker.process.tail()).toMatch(/REDIS_URL must be a redis:\/\/ or rediss:\/\/ URL/);
  }, 30_000);

  describe('when Redis becomes unreachable and comes back, twice', () => {
    let server: RedisServer;
    let proxy: TcpProxy;
    let worker: WorkerProcess;

    beforeAll(async () => {
      server = await RedisServer.start({ appendonly: false });
      proxy = await TcpProxy.start(server.port);
      worker = await WorkerProcess.start({
        env: { REDIS_URL: proxy.url(), KEY_PREFIX: keyPrefix, WORKER_METRICS_PORT: '0' },
        readyTimeoutMs: 20_000,
      });
    }, 30_000);

    afterAll(async () => {
      await worker?.kill();
      await proxy?.close();
      await server?.dispose();
    });

    const lines = (pattern: RegExp): string[] =>
      worker.process
        .tail()
        .split('\n')
        .filter((line) => pattern.test(line));

    /** Cuts the worker off until its clients have tried to reconnect at least `attempts` times. */
    async function outage(attempts: number): Promise<void> {
      const before = proxy.accepted;
      proxy.reset();
      await waitFor(() => proxy.accepted - before >= attempts, {
        timeoutMs: 30_000,
        intervalMs: 50,
        description: `${attempts} reconnection attempts through the partition`,
      });
      proxy.heal();
    }

    it('logs each outage once per connection, not once per retry, and says when it is back', async () => {
      await outage(12);
      await worker.process.waitForLine(/connected again/, 20_000);
      const firstWarnings = lines(/"level":"warn"/).length;
      // One line per client at most (commands, queue, worker and its blocking connection),
      // never one per attempt (twelve and more above).
      expect(firstWarnings).toBeGreaterThanOrEqual(1);
      expect(firstWarnings).toBeLessThanOrEqual(4);
      expect(lines(/"msg":"BullMQ worker: /).length).toBeLessThanOrEqual(1);

      // A second outage is a new change of state: logged again, once.
      await outage(12);
      await waitFor(() => lines(/"level":"warn"/).length > firstWarnings, {
        timeoutMs: 20_000,
        description: 'a warning for the second outage',
      });
      expect(lines(/"level":"warn"/).length).toBeLessThanOrEqual(2 * 4);
      expect(worker.process.running).toBe(true);
    }, 90_000);
  });
});
