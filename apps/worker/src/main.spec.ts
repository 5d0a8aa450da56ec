import { WorkerProcess } from '@rescind/testing';
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
});
