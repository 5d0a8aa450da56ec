import js from '@eslint/js';
import nx from '@nx/eslint-plugin';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

const depConstraints = [
  {
    sourceTag: 'type:core',
    onlyDependOnLibsWithTags: [],
    bannedExternalImports: ['@nestjs/*', 'ioredis', 'bullmq', 'fastify', 'express', 'prom-client'],
  },
  {
    // The deterministic simulation: the core driven by model stores and buses.
    sourceTag: 'type:sim',
    onlyDependOnLibsWithTags: ['type:core'],
    bannedExternalImports: ['@nestjs/*', 'ioredis', 'bullmq', 'fastify', 'express', 'prom-client'],
  },
  {
    sourceTag: 'type:config',
    onlyDependOnLibsWithTags: ['type:core', 'type:redis'],
    bannedExternalImports: ['@nestjs/*', 'fastify', 'express'],
  },
  {
    sourceTag: 'type:redis',
    onlyDependOnLibsWithTags: ['type:core'],
    bannedExternalImports: ['@nestjs/*', 'fastify', 'express'],
  },
  {
    sourceTag: 'type:nest',
    onlyDependOnLibsWithTags: ['type:core', 'type:redis'],
  },
  {
    // Test support may use the product libraries it exercises, never the reverse (see below).
    sourceTag: 'type:testing',
    onlyDependOnLibsWithTags: ['type:core', 'type:redis', 'type:nest', 'type:testing'],
  },
  {
    sourceTag: 'type:app',
    onlyDependOnLibsWithTags: [
      'type:core',
      'type:redis',
      'type:nest',
      'type:config',
      'type:testing',
    ],
  },
  {
    sourceTag: 'type:load-test',
    onlyDependOnLibsWithTags: [
      'type:core',
      'type:redis',
      'type:nest',
      'type:config',
      'type:testing',
    ],
  },
];

/**
 * The boundaries rule. The test support uses `revocation-nest` (the Nest test application, the
 * readiness type), whose specs use it in turn: that cycle runs through spec files only, since a
 * library's sources may never depend on test support (see the override for specs below).
 */
const moduleBoundaries = (constraints) => [
  'error',
  {
    enforceBuildableLibDependency: false,
    allow: [],
    ignoredCircularDependencies: [
      ['revocation-nest', 'testing'],
      ['revocation-nest', 'testing-nest'],
    ],
    depConstraints: constraints,
  },
];

/** A library's specs may also use the test support (a constraint that allows no lib stays so). */
const specConstraints = depConstraints.map((constraint) =>
  constraint.onlyDependOnLibsWithTags.length === 0
    ? constraint
    : {
        ...constraint,
        onlyDependOnLibsWithTags: [...constraint.onlyDependOnLibsWithTags, 'type:testing'],
      },
);

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      '**/coverage/**',
      '.nx/**',
      '**/*.js',
      '**/*.mjs',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    languageOptions: {
      parserOptions: {
        projectService: false,
        emitDecoratorMetadata: true,
        experimentalDecorators: true,
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false },
      ],
      'no-console': 'error',
      eqeqeq: ['error', 'always'],
      '@nx/enforce-module-boundaries': moduleBoundaries(depConstraints),
    },
  },
  {
    files: ['libs/*/src/**/*.spec.ts'],
    rules: { '@nx/enforce-module-boundaries': moduleBoundaries(specConstraints) },
  },
  {
    // Processes and CLIs whose job is to print to a terminal.
    files: ['apps/stack/**/*.ts', 'load-tests/**/*.ts', 'libs/testing/**/*.ts', '**/*.spec.ts'],
    rules: { 'no-console': 'off' },
  },
  prettier,
);
