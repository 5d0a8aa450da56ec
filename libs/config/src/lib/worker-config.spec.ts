import { ConfigError } from './config.error';
import { resolveLogFormat } from './log-format';
import { loadWorkerConfig } from './worker-config';

describe('loadWorkerConfig', () => {
  it('applies the documented defaults', () => {
    expect(loadWorkerConfig({})).toEqual({
      redisUrl: 'redis://127.0.0.1:6379',
      redisTopology: { kind: 'standalone', url: 'redis://127.0.0.1:6379' },
      keyPrefix: 'rvk',
      tidyIntervalMs: 30_000,
      workerMetricsPort: 9464,
      logFormat: 'auto',
      region: undefined,
      peerRegions: [],
    });
  });

  describe('when NODE_ENV=production', () => {
    it('starts without JWT_SECRET, which the worker never uses', () => {
      expect(() => loadWorkerConfig({ NODE_ENV: 'production' })).not.toThrow();
    });

    it('ignores the API-only variables, even invalid ones', () => {
      expect(() =>
        loadWorkerConfig({
          NODE_ENV: 'production',
          JWT_SECRET: 'short',
          REVOCATION_STRATEGY: 'none',
          PORT: 'eighty',
        }),
      ).not.toThrow();
    });
  });

  it('reads the shared Redis part like the API does', () => {
    expect(
      loadWorkerConfig({
        REDIS_URL: 'redis://:pw@10.0.0.1:6379',
        REDIS_CLUSTER_NODES: '10.0.0.1:7000,10.0.0.2:7000',
        KEY_PREFIX: 'tenant-a',
        TIDY_INTERVAL_MS: '1000',
        WORKER_METRICS_PORT: '0',
      }),
    ).toEqual({
      redisUrl: 'redis://:pw@10.0.0.1:6379',
      redisTopology: {
        kind: 'cluster',
        url: 'redis://:pw@10.0.0.1:6379',
        nodes: [
          { host: '10.0.0.1', port: 7000 },
          { host: '10.0.0.2', port: 7000 },
        ],
      },
      keyPrefix: '{tenant-a}',
      tidyIntervalMs: 1000,
      workerMetricsPort: 0,
      logFormat: 'auto',
      region: undefined,
      peerRegions: [],
    });
  });

  it('reports every bad variable it reads at once', () => {
    let thrown: unknown;
    try {
      loadWorkerConfig({ REDIS_URL: 'http://x', TIDY_INTERVAL_MS: '5', KEY_PREFIX: 'a b' });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    const problems = (thrown as ConfigError).problems;
    for (const name of ['REDIS_URL', 'TIDY_INTERVAL_MS', 'KEY_PREFIX']) {
      expect(problems.some((p) => p.startsWith(name))).toBe(true);
    }
  });
});

describe('LOG_FORMAT', () => {
  it('is pretty on a terminal and JSON elsewhere unless set', () => {
    expect(resolveLogFormat('auto', true)).toBe('pretty');
    expect(resolveLogFormat('auto', undefined)).toBe('json');
    expect(resolveLogFormat('json', true)).toBe('json');
    expect(resolveLogFormat('pretty', false)).toBe('pretty');
  });

  it('refuses another word, naming the ones it takes', () => {
    expect(() => loadWorkerConfig({ LOG_FORMAT: 'yaml' })).toThrow(
      /LOG_FORMAT must be one of auto, json, pretty, got "yaml"/,
    );
  });
});
