export * from './test-application';
export * from './wait-until-ready';
