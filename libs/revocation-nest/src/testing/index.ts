export * from './session-test.controller';
export * from './test-application';
export * from './wait-until-ready';
