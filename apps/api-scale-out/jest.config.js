module.exports = {
  ...require('../../jest.preset.js'),
  rootDir: __dirname,
  displayName: 'api-scale-out',
  testTimeout: 180000,
};
