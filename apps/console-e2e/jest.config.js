const preset = require('../../jest.preset.js');

module.exports = {
  ...preset,
  rootDir: __dirname,
  displayName: 'console-e2e',
  // Chromium and three replicas share two cores with whatever else runs.
  testTimeout: 180000,
};
