module.exports = {
  ...require('../../jest.preset.js'),
  rootDir: __dirname,
  displayName: 'nemesis',
  // The CI share runs the nemesis against real processes for about a minute per seed.
  testTimeout: 240000,
};
