import * as fs from 'node:fs/promises';
import * as path from 'node:path';

/**
 * The compiler options `nest new` (NestJS 11) writes, made strict: a user's fresh project, in which
 * the README's module snippet must compile as written (CommonJS, so no top-level `await`).
 */
export const NEST_NEW_COMPILER_OPTIONS = {
  module: 'nodenext',
  moduleResolution: 'nodenext',
  resolvePackageJsonExports: true,
  esModuleInterop: true,
  isolatedModules: true,
  declaration: true,
  removeComments: true,
  emitDecoratorMetadata: true,
  experimentalDecorators: true,
  allowSyntheticDefaultImports: true,
  target: 'ES2023',
  types: ['node'],
  skipLibCheck: true,
  forceConsistentCasingInFileNames: true,
  // `nest new` has strictNullChecks only; all of strict catches more in the snippet.
  strict: true,
  rootDir: 'src',
  outDir: 'dist',
} as const;

/**
 * Writes a `nest new`-like project into `dir` (inside an app whose node_modules has the package)
 * with `mainTs` as its `src/main.ts`; resolves with the path of the compiled `dist/main.js`.
 */
export async function writeNestNewProject(dir: string, mainTs: string): Promise<string> {
  await fs.mkdir(path.join(dir, 'src'), { recursive: true });
  await fs.writeFile(
    path.join(dir, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: NEST_NEW_COMPILER_OPTIONS, include: ['src'] }, null, 2),
  );
  // No "type": a CommonJS project, as `nest new` generates.
  await fs.writeFile(
    path.join(dir, 'package.json'),
    JSON.stringify({ name: path.basename(dir), private: true }),
  );
  await fs.writeFile(path.join(dir, 'src', 'main.ts'), mainTs);
  return path.join(dir, 'dist', 'main.js');
}
