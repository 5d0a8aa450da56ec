export * from './lib/render-chart';
