// Shared jest settings: TypeScript through SWC (decorator metadata on), workspace aliases mapped to source.
const path = require('node:path');

const root = __dirname;

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.(ts|js)$': [
      '@swc/jest',
      {
        jsc: {
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true },
          target: 'es2022',
        },
        module: { type: 'commonjs' },
      },
    ],
  },
  // `jose` ships ES modules only; SWC turns them into CommonJS like our sources.
  transformIgnorePatterns: ['/node_modules/(?!jose/)'],
  moduleFileExtensions: ['ts', 'js', 'json'],
  moduleNameMapper: {
    '^@rescind/(.*)$': path.join(root, 'libs/$1/src/index.ts'),
  },
  testMatch: ['**/*.spec.ts'],
};
