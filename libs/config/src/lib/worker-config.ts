import { type Milliseconds } from '@rescind/revocation-core';
import { ConfigError } from './config.error';
import { type Env, EnvReader } from './env-reader';
import { type LogFormat, readLogFormat } from './log-format';
import { readRedisConfig, type RedisConfig } from './redis-config';
import { type PeerRegion, readPeerRegions, readRegion } from './region-config';

/**
 * What the worker reads from the environment, and nothing more: it signs and verifies no token,
 * so it neither needs nor checks `JWT_SECRET`.
 */
export interface WorkerConfig extends RedisConfig {
  /** `TIDY_INTERVAL_MS`: how often the worker tidies the store. */
  readonly tidyIntervalMs: Milliseconds;
  /** `WORKER_METRICS_PORT`: where the worker serves `/metrics` (0: nowhere). */
  readonly workerMetricsPort: number;
  /** `LOG_FORMAT`: JSON lines, readable lines, or the one that suits the output. */
  readonly logFormat: LogFormat;
  /** `REGION`: this region's name, the origin of what is revoked here (unset: none). */
  readonly region: string | undefined;
  /**
   * `PEER_REGIONS`: the regions whose logs the worker's bridge follows (docs/design.md, "Several
   * regions"); empty: no bridge.
   */
  readonly peerRegions: readonly PeerRegion[];
}

/**
 * Reads and validates the worker's environment once.
 * @throws ConfigError listing every invalid variable
 */
export function loadWorkerConfig(env: Env): WorkerConfig {
  const read = new EnvReader(env);
  const region = readRegion(read);
  const config: WorkerConfig = {
    ...readRedisConfig(read),
    tidyIntervalMs: read.integer('TIDY_INTERVAL_MS', 30_000, 100, 86_400_000),
    workerMetricsPort: read.integer('WORKER_METRICS_PORT', 9464, 0, 65_535),
    logFormat: readLogFormat(read),
    region,
    peerRegions: readPeerRegions(read, region),
  };
  if (read.problems.length > 0) throw new ConfigError(read.problems);
  return config;
}
