export * from './lib/checker';
export * from './lib/model-store';
export * from './lib/parallel-run';
export * from './lib/schedule';
export * from './lib/shrink';
export * from './lib/sim-config';
export * from './lib/simulation';
export * from './lib/world';
