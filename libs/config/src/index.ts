export * from './lib/api-config';
export * from './lib/config.error';
export * from './lib/env-reader';
export * from './lib/log-format';
export * from './lib/redis-config';
export * from './lib/region-config';
export * from './lib/worker-config';
export * from './lib/run-with-config';
export {
  estimatedEntropyBits,
  KNOWN_SECRETS,
  MIN_SECRET_BYTES,
  MIN_SECRET_ENTROPY_BITS,
  secretWeakness,
} from './lib/secret-strength';
