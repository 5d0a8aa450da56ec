import * as fs from 'node:fs';
import { HarnessError } from './harness.error';
import { RedisServer } from './redis-server';
import { RespReplyError } from './resp-reply.error';

jest.setTimeout(30_000);

describe('RedisServer', () => {
  let redis: RedisServer | undefined;

  afterEach(async () => {
    await redis?.dispose();
    redis = undefined;
  });

  it('is available on this machine', () => {
    expect(RedisServer.isAvailable()).toBe(true);
  });

  it('starts on a free loopback port and answers commands', async () => {
    redis = await RedisServer.start();

    expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
    expect(redis.pid).toEqual(expect.any(Number));
    expect(await redis.cli('PING')).toBe('PONG');
    expect(await redis.cli('SET', 'k', 'v')).toBe('OK');
    expect(await redis.cli('DBSIZE')).toBe('1');
    expect(await redis.command('KEYS', '*')).toEqual(['k']);
    expect(await redis.cli('GET', 'missing')).toBe('');
    expect(await redis.cli('CONFIG', 'GET', 'appendonly')).toBe('appendonly\nyes');
  });

  it('rejects error replies with their Redis code', async () => {
    redis = await RedisServer.start();
    await redis.cli('SET', 'k', 'v');

    const error = await redis.cli('LPUSH', 'k', 'x').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RespReplyError);
    expect((error as RespReplyError).code).toBe('WRONGTYPE');
  });

  describe('when restarted', () => {
    it('keeps the port and reloads the data from the AOF', async () => {
      redis = await RedisServer.start();
      const { port } = redis;
      await redis.cli('SET', 'survivor', 'yes');

      await redis.restart();

      expect(redis.port).toBe(port);
      expect(await redis.cli('GET', 'survivor')).toBe('yes');
    });

    it('recovers acknowledged writes after a SIGKILL', async () => {
      redis = await RedisServer.start();
      await redis.cli('SET', 'survivor', 'yes');

      await redis.kill();
      expect(redis.running).toBe(false);
      await expect(redis.cli('PING')).rejects.toThrow(HarnessError);

      await redis.restart();
      expect(await redis.cli('GET', 'survivor')).toBe('yes');
    });
  });

  it('records an exit it did not ask for', async () => {
    redis = await RedisServer.start();
    expect(redis.unexpectedExit).toBeUndefined();

    await redis.command('SHUTDOWN', 'NOSAVE').catch(() => undefined);
    await redis.exited;

    expect(redis.running).toBe(false);
    expect(redis.unexpectedExit).toEqual({ code: 0, signal: null });
  });

  it('does not count stop() as unexpected', async () => {
    redis = await RedisServer.start();
    await redis.stop();
    expect(redis.running).toBe(false);
    expect(redis.unexpectedExit).toBeUndefined();
  });

  it('removes its temporary data dir on dispose', async () => {
    redis = await RedisServer.start();
    const { dir } = redis;
    expect(fs.existsSync(dir)).toBe(true);

    await redis.dispose();

    expect(fs.existsSync(dir)).toBe(false);
  });

  it('fails with the server output when the port is taken', async () => {
    redis = await RedisServer.start();

    const error = await RedisServer.start({ port: redis.port }).catch((e: unknown) => e);

    expect((error as HarnessError).code).toBe('ERR_REDIS_PORT_IN_USE');
    expect((error as Error).message).toMatch(/address already in use/i);
  });
});
