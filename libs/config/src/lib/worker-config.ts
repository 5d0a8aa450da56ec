import { type Milliseconds } from '@rescind/revocation-core';
import { ConfigError } from './config.error';
import { type Env, EnvReader } from './env-reader';
import { type LogFormat, readLogFormat } from './log-format';
import { readRedisConfig, type RedisConfig } from './redis-config';

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
}

/**
 * Reads and validates the worker's environment once.
 * @throws ConfigError listing every invalid variable
 */
export function loadWorkerConfig(env: Env): WorkerConfig {
  const read = new EnvReader(env);
  const config: WorkerConfig = {
    ...readRedisConfig(read),
    tidyIntervalMs: read.integer('TIDY_INTERVAL_MS', 30_000, 100, 86_400_000),
    workerMetricsPort: read.integer('WORKER_METRICS_PORT', 9464, 0, 65_535),
    logFormat: readLogFormat(read),
  };
  if (read.problems.length > 0) throw new ConfigError(read.problems);
  return config;
}
