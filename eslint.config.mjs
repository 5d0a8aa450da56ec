import js from '@eslint/js';
import nx from '@nx/eslint-plugin';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

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
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          depConstraints: [
            {
              sourceTag: 'type:core',
              onlyDependOnLibsWithTags: [],
              bannedExternalImports: [
                '@nestjs/*',
                'ioredis',
                'bullmq',
                'fastify',
                'express',
                'prom-client',
              ],
            },
            {
              // The deterministic simulation: the core driven by model stores and buses. It speaks
              // the store's wire format through revocation-redis's event codec, never a connection.
              sourceTag: 'type:sim',
              onlyDependOnLibsWithTags: ['type:core', 'type:redis'],
              bannedExternalImports: [
                '@nestjs/*',
                'ioredis',
                'bullmq',
                'fastify',
                'express',
                'prom-client',
              ],
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
            { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['type:core'] },
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
          ],
        },
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
