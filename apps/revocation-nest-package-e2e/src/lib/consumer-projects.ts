import * as fs from 'node:fs/promises';
import * as path from 'node:path';

/**
 * A tiny TypeScript project importing `@rescind/revocation-nest` under one `moduleResolution`,
 * as a CommonJS or an ES module.
 */
export interface ConsumerProject {
  /** Folder name, e.g. `nodenext-esm`. */
  readonly name: string;
  readonly module: 'commonjs' | 'node16' | 'nodenext' | 'esnext';
  readonly moduleResolution: 'node10' | 'node16' | 'nodenext' | 'bundler';
  /** `package.json` `type`: how Node and TypeScript treat the project's `.js`/`.ts` files. */
  readonly type: 'commonjs' | 'module';
  /** Whether the output is run under Node (a bundler's input is only type-checked). */
  readonly runs: boolean;
}

/**
 * Every resolution mode TypeScript has for a package's consumer: `node16` and `nodenext` resolve
 * alike (one CommonJS and one ESM consumer between them), `bundler` reads the `import` condition.
 */
export const CONSUMER_PROJECTS: readonly ConsumerProject[] = [
  {
    name: 'node10-cjs',
    module: 'commonjs',
    moduleResolution: 'node10',
    type: 'commonjs',
    runs: true,
  },
  {
    name: 'node16-cjs',
    module: 'node16',
    moduleResolution: 'node16',
    type: 'commonjs',
    runs: true,
  },
  {
    name: 'nodenext-esm',
    module: 'nodenext',
    moduleResolution: 'nodenext',
    type: 'module',
    runs: true,
  },
  { name: 'bundler', module: 'esnext', moduleResolution: 'bundler', type: 'module', runs: false },
];

/** What a consumer prints when run: names only an import that resolved to the real code has. */
export interface ConsumerReport {
  readonly module: string;
  readonly service: string;
  /** ESM only: whether `import` and `require` gave the same `RevocationModule` class. */
  readonly sameClassAsRequire?: boolean;
}

// A value and a type import from the package, and a call typed by its declarations.
const COMMON = `import 'reflect-metadata';
import { type AccessTokenClaims, RevocationModule, TokenService } from '@rescind/revocation-nest';

const claims: Pick<AccessTokenClaims, 'sub'> = { sub: 'alice' };
const dynamicModule = RevocationModule.forRoot({
  redis: 'redis://127.0.0.1:6379',
  jwtSecret: claims.sub.repeat(8),
});
`;

const CJS_SOURCE = `${COMMON}
console.log(JSON.stringify({ module: dynamicModule.module.name, service: TokenService.name }));
`;

const ESM_SOURCE = `import { createRequire } from 'node:module';
${COMMON}
const required = createRequire(import.meta.url)('@rescind/revocation-nest') as {
  RevocationModule: unknown;
};
console.log(
  JSON.stringify({
    module: dynamicModule.module.name,
    service: TokenService.name,
    sameClassAsRequire: required.RevocationModule === RevocationModule,
  }),
);
`;

/** Writes `project` into `<dir>/<name>` (inside an app whose node_modules has the package). */
export async function writeConsumerProject(dir: string, project: ConsumerProject): Promise<string> {
  const projectDir = path.join(dir, project.name);
  await fs.mkdir(path.join(projectDir, 'src'), { recursive: true });
  const tsconfig = {
    compilerOptions: {
      target: 'ES2022',
      module: project.module,
      moduleResolution: project.moduleResolution,
      lib: ['ES2022'],
      types: ['node'],
      strict: true,
      // Only this project's files: the package's own declarations are checked by its build.
      skipLibCheck: true,
      rootDir: 'src',
      outDir: 'dist',
      noEmit: !project.runs,
    },
    include: ['src'],
  };
  await fs.writeFile(path.join(projectDir, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
  await fs.writeFile(
    path.join(projectDir, 'package.json'),
    JSON.stringify({ name: `consumer-${project.name}`, private: true, type: project.type }),
  );
  const source = project.type === 'module' ? ESM_SOURCE : CJS_SOURCE;
  await fs.writeFile(path.join(projectDir, 'src', 'index.ts'), source);
  return projectDir;
}
