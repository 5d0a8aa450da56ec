const preset = require('../../jest.preset.js');

module.exports = {
  ...preset,
  rootDir: __dirname,
  displayName: 'api-e2e',
  testTimeout: 120000,
  transform: {
    ...preset.transform,
    // oauth4webapi ships ES modules only; jest runs CommonJS, so its code is transpiled as is.
    '/node_modules/oauth4webapi/.+\\.js$': [
      '@swc/jest',
      { jsc: { target: 'es2022' }, module: { type: 'commonjs' } },
    ],
  },
  transformIgnorePatterns: ['/node_modules/(?!oauth4webapi/|jose/)'],
};
