module.exports = {
  ...require('../jest.preset.js'),
  rootDir: __dirname,
  displayName: 'observability',
  testTimeout: 120000,
};
