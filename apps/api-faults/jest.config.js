module.exports = {
  ...require('../../jest.preset.js'),
  rootDir: __dirname,
  displayName: 'api-faults',
  testTimeout: 120000,
};
