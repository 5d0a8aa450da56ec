export * from './lib/api-config';
export * from './lib/config.error';
export * from './lib/env-reader';
export * from './lib/redis-config';
export * from './lib/worker-config';
export * from './lib/run-with-config';
