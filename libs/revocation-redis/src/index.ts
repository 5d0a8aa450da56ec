export * from './lib/lua-script';
export * from './lib/redis-connection';
export * from './lib/redis-keys';
export * from './lib/redis-topology';
export * from './lib/revocation-store';
