export * from './lib/event-codec';
export * from './lib/redis-commands';
export * from './lib/redis-connection';
export * from './lib/redis-keys';
export * from './lib/redis-subscriber';
export * from './lib/redis-topology';
export * from './lib/revocation-store';
export * from './lib/session-store';
