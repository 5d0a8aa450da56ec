import { EnvReader } from './env-reader';
import { readRedisConfig } from './redis-config';

function problemsOf(env: Record<string, string>): readonly string[] {
  const read = new EnvReader(env);
  readRedisConfig(read);
  return read.problems;
}

describe('readRedisConfig', () => {
  it('reads Sentinels with the master name', () => {
    const read = new EnvReader({
      REDIS_URL: 'redis://:pw@ignored:6379/1',
      REDIS_SENTINELS: '10.0.0.1:26379,[::1]:26380',
      REDIS_SENTINEL_NAME: 'mymaster',
    });
    expect(readRedisConfig(read)).toEqual({
      redisUrl: 'redis://:pw@ignored:6379/1',
      redisTopology: {
        kind: 'sentinel',
        url: 'redis://:pw@ignored:6379/1',
        sentinels: [
          { host: '10.0.0.1', port: 26379 },
          { host: '::1', port: 26380 },
        ],
        name: 'mymaster',
      },
      keyPrefix: 'rvk',
    });
    expect(read.problems).toEqual([]);
  });

  it('keeps a prefix that already has a hash tag in a cluster', () => {
    const read = new EnvReader({ REDIS_CLUSTER_NODES: 'a:7000', KEY_PREFIX: 'x{t}' });
    expect(readRedisConfig(read).keyPrefix).toBe('x{t}');
  });

  it.each<[string, Record<string, string>, string[]]>([
    [
      'a URL of another scheme',
      { REDIS_URL: 'http://x' },
      ['REDIS_URL must be a redis:// or rediss:// URL, got "http://x"'],
    ],
    [
      'a URL that does not parse',
      { REDIS_URL: 'redis://[x' },
      ['REDIS_URL is not a valid URL: "redis://[x"'],
    ],
    [
      'Sentinels without a master name',
      { REDIS_SENTINELS: 'a:26379' },
      ['REDIS_SENTINEL_NAME is required with REDIS_SENTINELS'],
    ],
    [
      'Sentinels and a cluster',
      { REDIS_SENTINELS: 'a:26379', REDIS_SENTINEL_NAME: 'm', REDIS_CLUSTER_NODES: 'b:7000' },
      ['REDIS_SENTINELS and REDIS_CLUSTER_NODES exclude each other'],
    ],
    [
      'a bad node',
      { REDIS_CLUSTER_NODES: 'a:7000,b' },
      ['REDIS_CLUSTER_NODES must be host:port entries, got "b"'],
    ],
  ])('reports %s by variable name', (_case, env, expected) => {
    expect(problemsOf(env)).toEqual(expected);
  });
});
