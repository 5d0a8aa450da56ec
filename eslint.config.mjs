import { fileURLToPath } from 'node:url';
import js from '@eslint/js';
import nx from '@nx/eslint-plugin';
import prettier from 'eslint-config-prettier';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

/** Absolute, or the resolver answers paths relative to the working directory and no cycle closes. */
const TSCONFIG = fileURLToPath(new URL('./tsconfig.base.json', import.meta.url));

/**
 * Module boundaries (docs/design.md, "Projects and boundaries").
 *
 * Every project carries one `type:` tag, and each tag may import only the tags listed for it:
 *
 *   core        nothing of ours, and never NestJS, Redis clients or HTTP frameworks
 *   redis       core
 *   nest        core, redis
 *   config      core, redis
 *   testing     core (test support: processes, waits, fixtures)
 *   sim         core, redis (drives the core against model stores; speaks the store's wire format
 *               through revocation-redis's event codec, never a connection)
 *   app         core, redis, nest, config (the product: api, worker)
 *   test-suite  libs + testing (api-e2e, console-e2e, api-faults, api-scale-out, the package
 *               test, observability)
 *   load-test   libs + testing (bench, soak, nemesis, k6)
 *   launcher    testing, config (stack: starts Redis, the worker and the replicas as processes,
 *               with the config defaults it derives for them)
 *
 * Specs (`*.spec.ts`) of any project may also import `testing`; what a project ships may not.
 *
 * No tag lists `app`, `test-suite`, `load-test` or `launcher`: nothing imports an app, a test suite,
 * a load test or the launcher; they reach each other only as processes (`implicitDependencies`).
 *
 * The rule reads Nx's cached project graph, which `npm run lint` builds first (`nx show projects`);
 * `.ci/lint-enforces.mjs` proves that on a clean checkout.
 */
const PRODUCT_LIBS = ['type:core', 'type:redis', 'type:nest', 'type:config'];

/** What the core must never import: it is the framework-free, store-free part every runtime shares. */
const NOT_IN_CORE = [
  '@nestjs/*',
  '@fastify/*',
  'ioredis',
  'bullmq',
  'fastify',
  'express',
  'prom-client',
  'rxjs',
  'reflect-metadata',
  'pino',
  'pino-http',
  'nestjs-pino',
];

/** HTTP frameworks and NestJS belong to the module and the apps, not to the Redis adapter or config. */
const NO_FRAMEWORK = ['@nestjs/*', '@fastify/*', 'fastify', 'express'];

const depConstraints = [
  { sourceTag: 'type:core', onlyDependOnLibsWithTags: [], bannedExternalImports: NOT_IN_CORE },
  {
    sourceTag: 'type:redis',
    onlyDependOnLibsWithTags: ['type:core'],
    bannedExternalImports: NO_FRAMEWORK,
  },
  { sourceTag: 'type:nest', onlyDependOnLibsWithTags: ['type:core', 'type:redis'] },
  {
    sourceTag: 'type:config',
    onlyDependOnLibsWithTags: ['type:core', 'type:redis'],
    bannedExternalImports: NO_FRAMEWORK,
  },
  { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['type:core'] },
  {
    sourceTag: 'type:sim',
    onlyDependOnLibsWithTags: ['type:core', 'type:redis'],
    bannedExternalImports: NOT_IN_CORE,
  },
  { sourceTag: 'type:app', onlyDependOnLibsWithTags: PRODUCT_LIBS },
  { sourceTag: 'type:test-suite', onlyDependOnLibsWithTags: [...PRODUCT_LIBS, 'type:testing'] },
  {
    sourceTag: 'type:load-test',
    onlyDependOnLibsWithTags: [...PRODUCT_LIBS, 'type:testing', 'type:charts'],
  },
  { sourceTag: 'type:charts', onlyDependOnLibsWithTags: [] },
  { sourceTag: 'type:launcher', onlyDependOnLibsWithTags: ['type:testing', 'type:config'] },
];

/** Specs of every project may also use the test support library; shipped code may not. */
const specDepConstraints = depConstraints.map((constraint) => ({
  ...constraint,
  onlyDependOnLibsWithTags: [...new Set([...constraint.onlyDependOnLibsWithTags, 'type:testing'])],
}));

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
    plugins: { '@nx': nx, 'import-x': importX },
    languageOptions: {
      parserOptions: {
        projectService: false,
        emitDecoratorMetadata: true,
        experimentalDecorators: true,
      },
    },
    settings: {
      'import-x/extensions': ['.ts', '.js'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      // The resolver that ships with import-x, taught the `@rescind/*` paths of tsconfig.base.json, so a
      // cycle through a library's index is seen like one through relative imports.
      'import-x/resolver-next': [
        createNodeResolver({
          extensions: ['.ts', '.js', '.json', '.node'],
          tsconfig: { configFile: TSCONFIG },
        }),
      ],
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
      // Runtime cycles only: a type-only import is erased by tsc and cannot leave a module half-initialised.
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      '@nx/enforce-module-boundaries': [
        'error',
        { enforceBuildableLibDependency: false, allow: [], depConstraints },
      ],
    },
  },
  {
    // A library's own spec support (`src/testing`, never built or packed) counts as spec code.
    files: ['**/*.spec.ts', 'libs/*/src/testing/**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        { enforceBuildableLibDependency: false, allow: [], depConstraints: specDepConstraints },
      ],
    },
  },
  {
    // Processes and CLIs whose job is to print to a terminal.
    files: ['apps/stack/**/*.ts', 'load-tests/**/*.ts', 'libs/testing/**/*.ts', '**/*.spec.ts'],
    rules: { 'no-console': 'off' },
  },
  prettier,
);
