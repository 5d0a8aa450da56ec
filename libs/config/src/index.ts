export * from './lib/config.error';
export * from './lib/env-reader';
export * from './lib/rescind-config';
