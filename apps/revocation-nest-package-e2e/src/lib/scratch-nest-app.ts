import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { ManagedProcess, repoRoot } from '@rescind/testing';
import { runCommand } from './run-command';

/**
 * What `nest new` gives an app on Express, before the package under test: the README's install
 * command adds the package and `@nestjs/microservices`.
 */
export const SCRATCH_APP_DEPENDENCIES = [
  '@nestjs/common',
  '@nestjs/core',
  '@nestjs/platform-express',
  'reflect-metadata',
  'rxjs',
] as const;

/** Where the README's install command names this repository's clone. */
export const CLONE_PLACEHOLDER = '/path/to/rescind';

/** The app's source: written like a user's, type-checked in the repo against the library's source. */
const MAIN_TS = path.join(__dirname, '..', 'scratch-app', 'main.ts');

/** Settings of one running replica of the scratch app. */
export interface ScratchAppEnv {
  readonly REDIS_URL: string;
  readonly KEY_PREFIX: string;
  readonly JWT_SECRET: string;
}

/** A running replica of the scratch app. */
export interface ScratchReplica {
  readonly process: ManagedProcess;
  /** `http://127.0.0.1:<port>`, the port chosen by the OS. */
  readonly url: string;
}

type PackageJson = {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

/**
 * A NestJS app generated in a scratch folder, `@rescind/revocation-nest` installed into it by the
 * README's install command, compiled with the repo's TypeScript.
 */
export class ScratchNestApp {
  private constructor(readonly dir: string) {}

  /**
   * Writes `package.json` (the root package.json's versions), a strict `tsconfig.json` and
   * `src/main.ts` into `dir`.
   */
  static async generate(dir: string): Promise<ScratchNestApp> {
    const root = JSON.parse(
      await fs.readFile(path.join(repoRoot(), 'package.json'), 'utf8'),
    ) as PackageJson;
    const version = (name: string): string => {
      const range = root.dependencies[name] ?? root.devDependencies[name];
      if (range === undefined) throw new Error(`the root package.json does not list ${name}`);
      return range;
    };
    const manifest = {
      name: 'scratch-nest-app',
      version: '0.0.0',
      private: true,
      dependencies: {
        ...Object.fromEntries(SCRATCH_APP_DEPENDENCIES.map((name) => [name, version(name)])),
      },
      devDependencies: { '@types/node': version('@types/node') },
    };
    const tsconfig = {
      compilerOptions: {
        target: 'ES2022',
        module: 'commonjs',
        moduleResolution: 'node',
        lib: ['ES2022'],
        types: ['node'],
        strict: true,
        experimentalDecorators: true,
        emitDecoratorMetadata: true,
        esModuleInterop: true,
        // As `nest new` generates it; the build script checks every import of the declarations.
        skipLibCheck: true,
        rootDir: 'src',
        outDir: 'dist',
      },
      include: ['src'],
    };
    await fs.mkdir(path.join(dir, 'src'), { recursive: true });
    await fs.writeFile(path.join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    await fs.writeFile(path.join(dir, 'tsconfig.json'), `${JSON.stringify(tsconfig, null, 2)}\n`);
    await fs.copyFile(MAIN_TS, path.join(dir, 'src', 'main.ts'));
    return new ScratchNestApp(dir);
  }

  /**
   * Runs the README's install command in the app, the clone's path put in place of
   * {@link CLONE_PLACEHOLDER}: it packs the package into the repo's `dist/packages` and installs it
   * with the app's dependencies, from the local cache where it can (it has every package after
   * `npm ci`).
   */
  async installAsReadmeSays(command: string): Promise<void> {
    if (!command.includes(CLONE_PLACEHOLDER)) {
      throw new Error(`the install command does not name ${CLONE_PLACEHOLDER}: ${command}`);
    }
    await runCommand('bash', ['-c', command.replaceAll(CLONE_PLACEHOLDER, repoRoot())], {
      cwd: this.dir,
      timeoutMs: 300_000,
      env: {
        npm_config_prefer_offline: 'true',
        npm_config_audit: 'false',
        npm_config_fund: 'false',
        npm_config_update_notifier: 'false',
      },
    });
  }

  /** Compiles the TypeScript project of `tsconfig` (relative to the app) with the repo's `tsc`. */
  async tsc(tsconfig: string): Promise<void> {
    await runCommand(path.join(repoRoot(), 'node_modules', '.bin', 'tsc'), ['-p', tsconfig], {
      cwd: this.dir,
      timeoutMs: 120_000,
    });
  }

  /** Compiles `src/main.ts` to `dist/main.js` with the repo's `tsc`. */
  async compile(): Promise<void> {
    await this.tsc('tsconfig.json');
  }

  /** The file Node loads for `require('@rescind/revocation-nest')` in the app (asked of Node, not jest). */
  async resolvePackage(): Promise<string> {
    const script = "process.stdout.write(require.resolve('@rescind/revocation-nest'))";
    return runCommand(process.execPath, ['-e', script], { cwd: this.dir, timeoutMs: 10_000 });
  }

  /** Starts a replica and resolves once it listens; stop it with `replica.process.stop()`. */
  async start(name: string, env: ScratchAppEnv): Promise<ScratchReplica> {
    const child = await ManagedProcess.spawnNode(path.join(this.dir, 'dist', 'main.js'), {
      name,
      cwd: this.dir,
      env: { ...env, NO_COLOR: '1', NODE_PATH: undefined, NODE_OPTIONS: undefined },
    });
    try {
      const [, url] = await child.waitForLine(/listening on (http:\/\/\S+)/, 30_000);
      return { process: child, url: url as string };
    } catch (error) {
      await child.kill();
      throw error;
    }
  }
}
