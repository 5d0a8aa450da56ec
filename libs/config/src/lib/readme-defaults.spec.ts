import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { defaultSyncIntervalMs } from '@rescind/revocation-core';
import { type ApiConfig, loadApiConfig } from './api-config';
import { loadWorkerConfig, type WorkerConfig } from './worker-config';

/** The README's configuration table: variable → its documented default, as written. */
function documentedDefaults(): Map<string, string> {
  const readme = readFileSync(join(__dirname, '../../../../README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Configuration'));
  const table = section.slice(0, section.indexOf('\n## '));
  const defaults = new Map<string, string>();
  for (const line of table.split('\n')) {
    const cells = line.split('|').map((cell) => cell.trim());
    const names = [...(cells[1] ?? '').matchAll(/`([A-Z_]+)`/g)].map((m) => m[1] as string);
    // `A` / `B` rows give one default each, in order; a one-variable default may hold a ` / `.
    const values = names.length > 1 ? (cells[2] ?? '').split(' / ') : [cells[2] ?? ''];
    names.forEach((name, i) => defaults.set(name, values[i] ?? ''));
  }
  return defaults;
}

/** The first backticked value of a cell: `900` (seconds) → 900. */
function value(cell: string | undefined): string {
  return /`([^`]*)`/.exec(cell ?? '')?.[1] ?? `(no default in "${cell}")`;
}

describe('the README configuration table', () => {
  const documented = documentedDefaults();
  const api = loadApiConfig({});
  const worker = loadWorkerConfig({});

  it.each<[string, keyof ApiConfig]>([
    ['REDIS_URL', 'redisUrl'],
    ['KEY_PREFIX', 'keyPrefix'],
    ['ACCESS_TOKEN_TTL', 'accessTokenTtlSeconds'],
    ['REFRESH_TOKEN_TTL', 'refreshTokenTtlSeconds'],
    ['REFRESH_REUSE_GRACE_MS', 'refreshReuseGraceMs'],
    ['PORT', 'port'],
    ['REVOCATION_CACHE_MAX', 'cacheMaxEntries'],
    ['VERIFIED_TOKEN_CACHE_MAX', 'verifiedTokenCacheMax'],
    ['FAIL_MODE', 'failMode'],
    ['MAX_STALENESS_MS', 'maxStalenessMs'],
    ['CLOCK_SKEW_MS', 'clockSkewMs'],
    ['REVOCATION_STRATEGY', 'strategy'],
    ['HTTP_ADAPTER', 'httpAdapter'],
    ['LOG_LEVEL', 'logLevel'],
    ['LOG_FORMAT', 'logFormat'],
    ['LOGIN_FAILURE_LIMIT', 'loginFailureLimit'],
    ['LOGIN_IP_FAILURE_LIMIT', 'loginIpFailureLimit'],
    ['LOGIN_FAILURE_WINDOW_MS', 'loginFailureWindowMs'],
    ['REGISTER_IP_LIMIT', 'registerIpLimit'],
    ['SHUTDOWN_GRACE_MS', 'shutdownGraceMs'],
    ['PASSWORD_HASH_COST', 'passwordHashCost'],
    ['PRESENCE_HEARTBEAT_MS', 'presenceHeartbeatMs'],
  ])('gives the API default of %s', (name, field) => {
    expect(value(documented.get(name))).toBe(String(api[field]));
  });

  it.each<[string, keyof WorkerConfig]>([
    ['TIDY_INTERVAL_MS', 'tidyIntervalMs'],
    ['WORKER_METRICS_PORT', 'workerMetricsPort'],
    ['LOG_FORMAT', 'logFormat'],
  ])('gives the worker default of %s', (name, field) => {
    expect(value(documented.get(name))).toBe(String(worker[field]));
  });

  it('documents REGION and PEER_REGIONS as unset by default, so that no bridge runs', () => {
    expect(documented.get('REGION')).toBe('unset');
    expect(documented.has('PEER_REGIONS')).toBe(true);
    expect(worker.region).toBeUndefined();
    expect(worker.peerRegions).toEqual([]);
  });

  it('gives the rule LOGIN_MAX_CONCURRENT_HASHES is derived by', () => {
    expect(value(documented.get('LOGIN_MAX_CONCURRENT_HASHES'))).toBe(
      'max(1, min(cores − 1, UV_THREADPOOL_SIZE − 1))',
    );
    expect(api.loginMaxConcurrentHashes).toBe(
      Math.max(1, Math.min(availableParallelism() - 1, 4 - 1)),
    );
  });

  it('gives the rule the module derives SYNC_INTERVAL_MS by', () => {
    const rule = value(documented.get('SYNC_INTERVAL_MS'));
    expect(rule).toBe('max(50, min(1000, MAX_STALENESS_MS / 4))');
    for (const maxStalenessMs of [100, 2000, 5000, 60_000]) {
      expect(defaultSyncIntervalMs(maxStalenessMs)).toBe(
        Math.max(50, Math.min(1000, Math.floor(maxStalenessMs / 4))),
      );
    }
    expect(api.syncIntervalMs).toBeUndefined();
  });
});
