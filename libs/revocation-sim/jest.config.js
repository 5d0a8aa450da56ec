module.exports = {
  ...require('../../jest.preset.js'),
  rootDir: __dirname,
  displayName: 'revocation-sim',
  // The simulation spec runs its schedules on worker threads; a slow, busy CI machine still
  // finishes within this.
  testTimeout: 240_000,
};
