import { createHash, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { LuaScript } from './lua-script';

const REDIS_URL = 'redis://127.0.0.1:6379';

describe('LuaScript', () => {
  let redis: Redis;
  const prefix = `t${process.pid}x${Date.now()}xlua`;

  beforeAll(() => {
    redis = new Redis(REDIS_URL);
  });

  afterAll(async () => {
    await redis.del(`${prefix}:k`);
    await redis.quit();
  });

  /** A script body no Redis has cached yet. */
  function freshScript(): LuaScript {
    return new LuaScript(
      'echo',
      1,
      `-- ${randomUUID()}\nredis.call('SET', KEYS[1], ARGV[1])\nreturn {KEYS[1], ARGV[1]}`,
    );
  }

  it('is named by the SHA1 of its body, as Redis names it', async () => {
    const script = freshScript();
    expect(script.sha).toBe(createHash('sha1').update(script.body).digest('hex'));
    expect(await redis.script('LOAD', script.body)).toBe(script.sha);
  });

  describe('when Redis has not cached the script yet', () => {
    it('falls back to EVAL, after which Redis has it cached', async () => {
      const script = freshScript();
      expect(await redis.script('EXISTS', script.sha)).toEqual([0]);

      expect(await script.run(redis, [`${prefix}:k`], ['v1'])).toEqual([`${prefix}:k`, 'v1']);
      expect(await redis.get(`${prefix}:k`)).toBe('v1');
      expect(await redis.script('EXISTS', script.sha)).toEqual([1]);

      expect(await script.run(redis, [`${prefix}:k`], [2])).toEqual([`${prefix}:k`, '2']);
      expect(await redis.get(`${prefix}:k`)).toBe('2');
    });
  });

  describe('when it is given the wrong number of keys', () => {
    it('rejects with a RangeError before sending anything', async () => {
      const script = freshScript();
      const sendCommand = jest.spyOn(redis, 'sendCommand');
      try {
        await expect(script.run(redis, [], ['v'])).rejects.toThrow(RangeError);
        await expect(script.run(redis, ['a', 'b'], ['v'])).rejects.toThrow(/takes 1 keys, got 2/);
        expect(sendCommand).not.toHaveBeenCalled();
      } finally {
        sendCommand.mockRestore();
      }
    });
  });

  describe('when the script fails', () => {
    it('rejects with the error the script raised', async () => {
      const failing = new LuaScript(
        'fails',
        0,
        `-- ${randomUUID()}\nreturn redis.error_reply('NOPE broken')`,
      );
      await expect(failing.run(redis, [], [])).rejects.toThrow(/NOPE broken/);
    });
  });
});
