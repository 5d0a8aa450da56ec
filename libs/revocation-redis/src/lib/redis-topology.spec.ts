import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  checkRedisTopology,
  effectiveKeyPrefix,
  parseRedisNodes,
  type RedisTopology,
  resolveRedisTopology,
} from './redis-topology';

describe('resolveRedisTopology', () => {
  it('takes a URL as a standalone server', () => {
    expect(resolveRedisTopology('redis://127.0.0.1:6379')).toEqual({
      kind: 'standalone',
      url: 'redis://127.0.0.1:6379',
    });
  });

  it('returns a valid topology value itself, not a copy', () => {
    const topology: RedisTopology = {
      kind: 'sentinel',
      url: 'redis://:pw@x',
      sentinels: [{ host: '10.0.0.1', port: 26379 }],
      name: 'mymaster',
    };
    expect(resolveRedisTopology(topology)).toBe(topology);
  });

  it('lists every problem, each naming its part', () => {
    expect(() =>
      resolveRedisTopology({ kind: 'sentinel', url: 'http://x', sentinels: [], name: '' }),
    ).toThrow(
      new RangeError(
        'redis.url must be a redis:// or rediss:// URL, got "http://x"; ' +
          'redis.sentinels lists no host:port; redis.name is required with redis.sentinels',
      ),
    );
  });

  it('masks the user and password of a bad URL it quotes', () => {
    expect(() => resolveRedisTopology('http://user:secret@x')).toThrow(
      new RangeError('redis.url must be a redis:// or rediss:// URL, got "http://***@x"'),
    );
  });

  it('rejects an unknown kind', () => {
    expect(() =>
      resolveRedisTopology({ kind: 'mesh', url: 'redis://x' } as unknown as RedisTopology),
    ).toThrow(/^redis\.kind must be one of standalone, sentinel, cluster/);
  });
});

describe('checkRedisTopology', () => {
  it('names the parts as told, e.g. by environment variable', () => {
    const names = {
      topology: 'REDIS_URL',
      url: 'REDIS_URL',
      sentinels: 'REDIS_SENTINELS',
      sentinelName: 'REDIS_SENTINEL_NAME',
      clusterNodes: 'REDIS_CLUSTER_NODES',
    };
    expect(
      checkRedisTopology(
        { kind: 'cluster', url: 'redis://[x', nodes: [{ host: '', port: 7000 }] },
        names,
      ).problems,
    ).toEqual([
      'REDIS_URL is not a valid URL: "redis://[x"',
      'REDIS_CLUSTER_NODES must be host:port entries, got ":7000"',
    ]);
  });
});

describe('parseRedisNodes', () => {
  it('reads host:port lists, IPv6 in brackets', () => {
    expect(parseRedisNodes('a:1, [::1]:7000', 'NODES')).toEqual([
      { host: 'a', port: 1 },
      { host: '::1', port: 7000 },
    ]);
  });
});

describe('effectiveKeyPrefix', () => {
  it('hash-tags a prefix in a cluster only', () => {
    const cluster: RedisTopology = { kind: 'cluster', url: 'redis://x', nodes: [] };
    expect(effectiveKeyPrefix('rvk', cluster)).toBe('{rvk}');
    expect(effectiveKeyPrefix('{t}rvk', cluster)).toBe('{t}rvk');
    expect(effectiveKeyPrefix('rvk', { kind: 'standalone', url: 'redis://x' })).toBe('rvk');
  });
});

describe('the module graph', () => {
  it('has the topology depend on nothing that creates connections (no import cycle)', () => {
    const source = readFileSync(join(__dirname, 'redis-topology.ts'), 'utf8');
    expect(source).not.toMatch(/from '\.\/redis-connection'/);
  });
});
