import { type Redis } from 'ioredis';
import { createCommandClient, reconnectDelay, redisOptionsFromUrl } from './redis-connection';

const REDIS_URL = 'redis://127.0.0.1:6379';

describe('redisOptionsFromUrl', () => {
  describe('when the URL is valid', () => {
    it('reads host and port of a plain redis:// URL', () => {
      expect(redisOptionsFromUrl('redis://10.0.0.7:6380')).toEqual({
        host: '10.0.0.7',
        port: 6380,
        db: 0,
      });
    });

    it('defaults to port 6379 and db 0', () => {
      expect(redisOptionsFromUrl('redis://cache.internal')).toEqual({
        host: 'cache.internal',
        port: 6379,
        db: 0,
      });
      expect(redisOptionsFromUrl('redis://cache.internal/').db).toBe(0);
    });

    it('turns TLS on for rediss://, naming the server for SNI', () => {
      expect(redisOptionsFromUrl('rediss://cache.example.com:6380')).toEqual({
        host: 'cache.example.com',
        port: 6380,
        db: 0,
        tls: { servername: 'cache.example.com' },
      });
    });

    it('leaves TLS off for redis://', () => {
      expect(redisOptionsFromUrl('redis://cache.example.com')).not.toHaveProperty('tls');
    });

    it('reads user and password, URL-decoded', () => {
      const options = redisOptionsFromUrl('redis://app%20user:p%40ss%3Aw%2Frd@h:1234');
      expect(options.username).toBe('app user');
      expect(options.password).toBe('p@ss:w/rd');
    });

    it('reads a password without a user (Redis before ACLs)', () => {
      const options = redisOptionsFromUrl('redis://:s3cret@h');
      expect(options).not.toHaveProperty('username');
      expect(options.password).toBe('s3cret');
    });

    it('sets no credentials when the URL has none', () => {
      const options = redisOptionsFromUrl('redis://h');
      expect(options).not.toHaveProperty('username');
      expect(options).not.toHaveProperty('password');
    });

    it('reads the db from the path', () => {
      expect(redisOptionsFromUrl('redis://h:6379/3').db).toBe(3);
      expect(redisOptionsFromUrl('redis://h/15?ignored=1').db).toBe(15);
    });

    it('reads an IPv6 host without its brackets', () => {
      expect(redisOptionsFromUrl('redis://[::1]:6380/2')).toEqual({
        host: '::1',
        port: 6380,
        db: 2,
      });
      expect(redisOptionsFromUrl('redis://[2001:db8::7]').host).toBe('2001:db8::7');
    });
  });

  describe('when the URL is not a usable Redis URL', () => {
    it.each([
      'http://127.0.0.1:6379',
      'https://cache.example.com',
      'redis-cluster://h',
      'garbage',
      '',
      '127.0.0.1:6379',
      'redis://h/abc',
      'redis://h/-1',
      'redis://h/1.5',
    ])('rejects %p with a RangeError', (url) => {
      expect(() => redisOptionsFromUrl(url)).toThrow(RangeError);
    });

    it('rejects a badly percent-encoded password with a RangeError', () => {
      expect(() => redisOptionsFromUrl('redis://:100%secret@h')).toThrow(RangeError);
    });

    it('does not repeat the password in its error message', () => {
      expect(() => redisOptionsFromUrl('redis://app:s3cret@h/abc')).toThrow(
        expect.objectContaining({ message: expect.not.stringContaining('s3cret') }),
      );
    });
  });
});

describe('reconnectDelay', () => {
  it('retries quickly at first, then backs off to one attempt a second', () => {
    expect([1, 2, 3, 4, 5, 6, 50, 10_000].map(reconnectDelay)).toEqual([
      10, 100, 200, 400, 800, 1000, 1000, 1000,
    ]);
  });

  it('gives every replica the same delays, so that none is back a back-off after the others', () => {
    for (const attempt of [1, 2, 6, 50]) {
      const delays = new Set(Array.from({ length: 100 }, () => reconnectDelay(attempt)));
      expect(delays.size).toBe(1);
    }
  });
});

describe('createCommandClient', () => {
  it('connects only when asked, under its connection name', async () => {
    const client = createCommandClient(
      { kind: 'standalone', url: REDIS_URL },
      'rescind-spec',
    ) as Redis;
    try {
      expect(client.status).toBe('wait');
      await client.connect();
      expect(await client.client('GETNAME')).toBe('rescind-spec');
    } finally {
      client.disconnect();
    }
  });

  it('fails fast instead of queueing commands while disconnected', async () => {
    const client = createCommandClient(
      { kind: 'standalone', url: 'redis://127.0.0.1:1' },
      'rescind-spec-unreachable',
    ) as Redis;
    client.on('error', () => undefined);
    try {
      const started = Date.now();
      await expect(client.get('anything')).rejects.toThrow(/enableOfflineQueue/);
      expect(Date.now() - started).toBeLessThan(1000);
    } finally {
      client.disconnect();
    }
  });

  it('lets the caller override options', () => {
    const client = createCommandClient({ kind: 'standalone', url: REDIS_URL }, 'rescind-spec', {
      commandTimeout: 50,
    }) as Redis;
    expect(client.options).toMatchObject({
      commandTimeout: 50,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectionName: 'rescind-spec',
    });
    client.disconnect();
  });
});
