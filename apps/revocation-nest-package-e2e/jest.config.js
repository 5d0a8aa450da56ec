module.exports = {
  ...require('../../jest.preset.js'),
  rootDir: __dirname,
  displayName: 'revocation-nest-package-e2e',
  // Packs the library and runs `npm install` in a scratch app: slower than a unit spec.
  testTimeout: 300000,
};
