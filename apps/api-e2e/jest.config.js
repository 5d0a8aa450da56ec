module.exports = {
  ...require('../../jest.preset.js'),
  rootDir: __dirname,
  displayName: 'api-e2e',
  testTimeout: 120000,
};
