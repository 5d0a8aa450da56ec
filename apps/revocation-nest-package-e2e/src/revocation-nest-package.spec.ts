import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  deleteKeysWithPrefix,
  freePort,
  ManagedProcess,
  repoRoot,
  TEST_REDIS_URL,
  uniqueKeyPrefix,
  waitFor,
} from '@rescind/testing';
import {
  CONSUMER_PROJECTS,
  type ConsumerReport,
  writeConsumerProject,
} from './lib/consumer-projects';
import { writeNestNewProject } from './lib/nest-new-project';
import { importSpecifiers, listFiles, unpack } from './lib/package-files';
import { readmeSnippets, shellCommand, type Snippet, snippetFileName } from './lib/readme-snippets';
import { runCommand } from './lib/run-command';
import { ScratchNestApp, type ScratchReplica } from './lib/scratch-nest-app';

/**
 * `libs/revocation-nest` packs into a package that installs as the README says, resolves under
 * every TypeScript resolution mode, and works in a fresh NestJS app; every README snippet compiles.
 */

/** Fan-out (README, "Guarantees and their limits"): other ready replicas reject within 100 ms. */
const FAN_OUT_BUDGET_MS = 100;

const LIBS = ['revocation-core', 'revocation-nest', 'revocation-redis'];

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: unknown;
}

async function call(
  url: string,
  route: string,
  { method = 'GET', token }: { method?: string; token?: string } = {},
): Promise<Answer> {
  const response = await fetch(`${url}${route}`, {
    method,
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : {} };
}

/** The version of `libs/revocation-nest/package.json`, the one `nx release version` bumps. */
async function packageVersion(): Promise<string> {
  const manifest = path.join(repoRoot(), 'libs', 'revocation-nest', 'package.json');
  return (JSON.parse(await fs.readFile(manifest, 'utf8')) as { version: string }).version;
}

async function login(replica: ScratchReplica): Promise<string> {
  const answer = await call(replica.url, '/login', { method: 'POST' });
  expect(answer.status).toBe(200);
  return (answer.body as { access_token: string }).access_token;
}

describe('@rescind/revocation-nest packed with npm pack', () => {
  const timings: Record<string, number> = {};
  let scratch: string;
  let app: ScratchNestApp;
  let tarball: string;
  let unpacked: string;
  let files: string[];
  let luaSources: string[];

  /** Runs `step` and records how long it took, for the summary printed at the end. */
  async function timed<T>(step: string, run: () => Promise<T>): Promise<T> {
    const start = performance.now();
    try {
      return await run();
    } finally {
      timings[step] = Math.round(performance.now() - start);
    }
  }

  beforeAll(async () => {
    scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'rescind-package-'));
    const readme = await fs.readFile(path.join(repoRoot(), 'README.md'), 'utf8');
    app = await ScratchNestApp.generate(path.join(scratch, 'app'));
    // README, "Install": one command packs the package and installs it into the user's app.
    await timed('pack and npm install as the README says', () =>
      app.installAsReadmeSays(shellCommand(readme, 'pack:revocation-nest')),
    );
    tarball = path.join(
      repoRoot(),
      'dist',
      'packages',
      `rescind-revocation-nest-${await packageVersion()}.tgz`,
    );
    unpacked = await unpack(tarball, path.join(scratch, 'unpacked'));
    files = await listFiles(unpacked);
    const commands = 'revocation-redis/src/lib/commands';
    luaSources = (await listFiles(path.join(repoRoot(), 'libs', commands)))
      .filter((file) => file.endsWith('.lua'))
      .map((file) => `${commands}/${file}`);
  });

  afterAll(async () => {
    if (scratch !== undefined) await fs.rm(scratch, { recursive: true, force: true });
    console.log(`package test timings (ms): ${JSON.stringify(timings)}`);
  });

  it('holds the three compiled libraries, its manifest, README and licence, and no test code', () => {
    expect(files).toContain('package.json');
    expect(files).toContain('README.md');
    expect(files).toContain('LICENSE');
    const tops = new Set(files.filter((f) => f.includes('/')).map((f) => f.split('/')[0]));
    expect([...tops].sort()).toEqual(LIBS);
    // Besides code: the manifest, the README, the licence, and the store's Lua scripts, read at
    // run time.
    expect(files.filter((f) => !/\.(m?js|d\.m?ts)$/.test(f) && !f.endsWith('.lua'))).toEqual([
      'LICENSE',
      'README.md',
      'package.json',
    ]);
    // Every script of the source tree, and nothing else (a script left out fails at run time).
    expect(files.filter((f) => f.endsWith('.lua')).sort()).toEqual(luaSources);
    expect(files.filter((f) => /\.(spec|test)\.|\/testing\//.test(f))).toEqual([]);
    for (const lib of LIBS) {
      expect(files).toContain(`${lib}/src/index.js`);
      expect(files).toContain(`${lib}/src/index.d.ts`);
    }
    // Every module has its declarations.
    const js = files.filter((f) => f.endsWith('.js'));
    expect(js.filter((f) => !files.includes(f.replace(/\.js$/, '.d.ts')))).toEqual([]);
  });

  it('passes npm publish --dry-run, which would publish exactly those files', async () => {
    const output = await timed('npm publish --dry-run', () =>
      runCommand('npm', ['publish', '--dry-run', '--json', tarball], {
        cwd: scratch,
        timeoutMs: 60_000,
        env: { npm_config_update_notifier: 'false' },
      }),
    );
    const report = JSON.parse(output)['@rescind/revocation-nest'] as {
      name: string;
      version: string;
      files: { path: string }[];
    };
    expect(report).toMatchObject({
      name: '@rescind/revocation-nest',
      version: await packageVersion(),
    });
    expect(report.files.map((f) => f.path).sort()).toEqual(files);
  });

  it('imports no @rescind/* workspace alias in any file', async () => {
    const offenders: string[] = [];
    for (const file of files.filter((f) => /\.(m?js|d\.m?ts)$/.test(f))) {
      const source = await fs.readFile(path.join(unpacked, file), 'utf8');
      for (const specifier of importSpecifiers(source)) {
        if (specifier.startsWith('@rescind/')) offenders.push(`${file}: ${specifier}`);
      }
    }
    expect(offenders).toEqual([]);
    // The rewriting did happen: the Nest library reaches the core library by a relative path.
    const moduleJs = await fs.readFile(
      path.join(unpacked, 'revocation-nest/src/lib/revocation.module.js'),
      'utf8',
    );
    expect(importSpecifiers(moduleJs)).toContain('../../../revocation-core/src/index.js');
  });

  it('declares its dependencies and NestJS peers at the versions of the root package.json', async () => {
    const root = JSON.parse(await fs.readFile(path.join(repoRoot(), 'package.json'), 'utf8'));
    const manifest = JSON.parse(await fs.readFile(path.join(unpacked, 'package.json'), 'utf8'));
    const atRoot = (names: string[]) =>
      Object.fromEntries(names.map((name) => [name, root.dependencies[name]]));
    expect(manifest).toMatchObject({
      name: '@rescind/revocation-nest',
      version: await packageVersion(),
      license: root.license,
      main: 'revocation-nest/src/index.js',
      types: 'revocation-nest/src/index.d.ts',
      exports: {
        '.': {
          import: {
            types: './revocation-nest/src/index.d.mts',
            default: './revocation-nest/src/index.mjs',
          },
          require: {
            types: './revocation-nest/src/index.d.ts',
            default: './revocation-nest/src/index.js',
          },
          default: './revocation-nest/src/index.js',
        },
        './package.json': './package.json',
      },
      publishConfig: { access: 'public' },
      dependencies: atRoot(['@nestjs/jwt', 'ioredis', 'lru-cache', 'prom-client']),
      peerDependencies: atRoot([
        '@nestjs/common',
        '@nestjs/core',
        '@nestjs/microservices',
        'reflect-metadata',
        'rxjs',
      ]),
    });
    expect(files).toContain(manifest.main);
    expect(files).toContain(manifest.types);
  });

  describe('when installed into a freshly generated NestJS app', () => {
    const keyPrefix = `pkg${process.pid}x${Date.now()}`;
    const env = { REDIS_URL: TEST_REDIS_URL, KEY_PREFIX: keyPrefix, JWT_SECRET: 's'.repeat(32) };
    let a: ScratchReplica | undefined;
    let b: ScratchReplica | undefined;

    async function waitReady(replica: ScratchReplica): Promise<void> {
      await waitFor(async () => (await call(replica.url, '/health/ready')).status === 200, {
        timeoutMs: 10_000,
        description: `${replica.process.name} to be ready`,
      });
    }

    /** Polls `replica` back to back until it rejects `token`; the ms elapsed since `fromMs`. */
    async function msUntilRejected(replica: ScratchReplica, token: string, fromMs: number) {
      await waitFor(async () => (await call(replica.url, '/me', { token })).status === 401, {
        timeoutMs: 5_000,
        intervalMs: 0,
        description: `${replica.process.name} to reject the revoked token`,
      });
      return performance.now() - fromMs;
    }

    beforeAll(async () => {
      await timed('tsc', () => app.compile());
      await timed('start two replicas', async () => {
        const started = await Promise.allSettled([
          app.start('replica-a', env),
          app.start('replica-b', env),
        ]);
        // Keep whichever started, so that afterAll stops it even if the other failed.
        [a, b] = started.map((s) => (s.status === 'fulfilled' ? s.value : undefined));
        for (const s of started) if (s.status === 'rejected') throw s.reason;
        await Promise.all([waitReady(a as ScratchReplica), waitReady(b as ScratchReplica)]);
      });
    });

    afterAll(async () => {
      await Promise.all([a?.process.stop(), b?.process.stop()]);
      await deleteKeysWithPrefix(keyPrefix);
    });

    it('loads the library from the installed package', async () => {
      const installed = 'node_modules/@rescind/revocation-nest/revocation-nest/src/index.js';
      expect(await fs.realpath(await app.resolvePackage())).toBe(
        await fs.realpath(path.join(app.dir, installed)),
      );
    });

    it('accepts a token until it is logged out, then answers 401 invalid_token', async () => {
      const replica = a as ScratchReplica;
      const token = await login(replica);
      expect((await call(replica.url, '/me')).status).toBe(401);
      const me = await call(replica.url, '/me', { token });
      expect(me.status).toBe(200);
      expect(me.body).toMatchObject({ sub: 'alice', username: 'alice' });

      expect((await call(replica.url, '/logout', { method: 'POST', token })).status).toBe(204);

      const after = await call(replica.url, '/me', { token });
      expect(after.status).toBe(401);
      expect(after.headers.get('www-authenticate')).toMatch(/^Bearer .*error="invalid_token"/);
      expect(after.body).toMatchObject({ error: 'ERR_TOKEN_REVOKED' });
    });

    it('makes a second replica of the app reject the revoked token within 100 ms', async () => {
      const [origin, other] = [a as ScratchReplica, b as ScratchReplica];
      for (let round = 0; round < 3; round++) {
        const token = await login(origin);
        expect((await call(other.url, '/me', { token })).status).toBe(200);
        expect((await call(origin.url, '/logout', { method: 'POST', token })).status).toBe(204);
        const returnedAt = performance.now();
        const elapsedMs = await msUntilRejected(other, token, returnedAt);
        timings['slowest fan-out'] = Math.max(
          timings['slowest fan-out'] ?? 0,
          Math.ceil(elapsedMs),
        );
        expect(elapsedMs).toBeLessThan(FAN_OUT_BUDGET_MS);
        const rejected = await call(other.url, '/me', { token });
        expect(rejected.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
      }
    });
  });

  describe('imported from a TypeScript project under each moduleResolution', () => {
    const compiled = new Map<string, Promise<string>>();

    beforeAll(async () => {
      const consumers = path.join(app.dir, 'consumers');
      await timed('tsc of the consumer projects', async () => {
        for (const project of CONSUMER_PROJECTS) {
          const dir = await writeConsumerProject(consumers, project);
          compiled.set(
            project.name,
            app.tsc(path.join(dir, 'tsconfig.json')).then(() => dir),
          );
        }
        await Promise.allSettled(compiled.values());
      });
    });

    it.each(
      CONSUMER_PROJECTS.map((p) => [p.runs ? `${p.name}, run under Node` : p.name, p] as const),
    )('%s: compiles against the package', async (_name, project) => {
      const dir = await (compiled.get(project.name) as Promise<string>);
      if (!project.runs) return;
      const stdout = await runCommand(process.execPath, [path.join(dir, 'dist', 'index.js')], {
        cwd: dir,
        timeoutMs: 30_000,
        env: { NODE_PATH: undefined, NODE_OPTIONS: undefined },
      });
      const report = JSON.parse(stdout) as ConsumerReport;
      expect(report).toMatchObject({ module: 'RevocationModule', service: 'TokenService' });
      // ESM loads the CommonJS build through the wrapper: one class, whichever way it is loaded.
      if (project.type === 'module') expect(report.sameClassAsRequire).toBe(true);
    });
  });

  describe("the READMEs' TypeScript snippets", () => {
    let snippets: Snippet[];

    beforeAll(async () => {
      snippets = await readmeSnippets(repoRoot());
    });

    it('are found in every README, the module one in the root README', () => {
      const readmes = new Set(snippets.map((s) => s.file));
      expect(readmes).toContain('README.md');
      expect(readmes).toContain('libs/testing/README.md');
      expect(snippets.filter((s) => s.context === 'module-app').map((s) => s.file)).toEqual([
        'README.md',
      ]);
      // An excerpt that cannot stand alone is the exception.
      expect(snippets.filter((s) => s.context === 'fragment').length).toBeLessThanOrEqual(2);
    });

    it('compile as written against the workspace libraries', async () => {
      const dir = path.join(scratch, 'workspace-snippets');
      await fs.mkdir(dir, { recursive: true });
      const workspace = snippets.filter((s) => s.context === 'workspace');
      expect(workspace.length).toBeGreaterThan(0);
      for (const snippet of workspace) {
        await fs.writeFile(path.join(dir, snippetFileName(snippet)), snippet.code);
      }
      const root = repoRoot();
      const tsconfig = {
        extends: path.join(root, 'tsconfig.base.json'),
        compilerOptions: {
          noEmit: true,
          types: ['node', 'jest'],
          typeRoots: [path.join(root, 'node_modules', '@types')],
        },
        files: workspace.map((s) => path.join(dir, snippetFileName(s))),
      };
      await fs.writeFile(path.join(dir, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
      // tsc names each failing snippet by its file: <README path>-<line>.ts.
      await timed('tsc of the workspace snippets', () =>
        runCommand(path.join(root, 'node_modules', '.bin', 'tsc'), ['-p', dir], {
          cwd: dir,
          timeoutMs: 120_000,
        }),
      );
    });

    it('are copied into the package README as written', async () => {
      const packageReadme = await fs.readFile(path.join(unpacked, 'README.md'), 'utf8');
      const moduleApp = snippets.find((s) => s.context === 'module-app') as Snippet;
      expect(packageReadme).toContain(moduleApp.code);
    });

    describe('the module one, as src/main.ts of a fresh NestJS project', () => {
      const keyPrefix = uniqueKeyPrefix();
      let server: ManagedProcess | undefined;
      let url: string;

      beforeAll(async () => {
        const moduleApp = snippets.find((s) => s.context === 'module-app') as Snippet;
        const dir = path.join(app.dir, 'readme-app');
        const mainJs = await writeNestNewProject(dir, moduleApp.code);
        await timed('tsc of the README app', async () => {
          try {
            await app.tsc(path.join(dir, 'tsconfig.json'));
          } catch (error) {
            // tsc's line N of src/main.ts is line N + the fence's of the README.
            throw new Error(`the snippet at ${moduleApp.file}:${moduleApp.line} does not compile`, {
              cause: error,
            });
          }
        });
        const port = await freePort();
        url = `http://127.0.0.1:${port}`;
        server = await ManagedProcess.spawnNode(mainJs, {
          name: 'readme-app',
          cwd: dir,
          env: {
            REDIS_URL: TEST_REDIS_URL,
            KEY_PREFIX: keyPrefix,
            JWT_SECRET: 'r'.repeat(32),
            PORT: String(port),
            NO_COLOR: '1',
            NODE_PATH: undefined,
            NODE_OPTIONS: undefined,
          },
        });
        await server.waitForLine(/Nest application successfully started/, 30_000);
        // As a load balancer would: a token issued before the first catch-up may predate the
        // store-wide not-before it has yet to read (docs/design.md, "Order of start-up").
        await waitFor(async () => (await call(url, '/health/ready')).status === 200, {
          timeoutMs: 10_000,
          description: 'the README app to be ready',
        });
      });

      afterAll(async () => {
        await server?.stop();
        await deleteKeysWithPrefix(keyPrefix);
      });

      it("logs in, serves /me, and answers 401 after logout (the README's console steps)", async () => {
        const denied = await fetch(`${url}/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username: 'alice', password: 'wrong' }),
        });
        expect(denied.status).toBe(401);
        const answer = await fetch(`${url}/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username: 'alice', password: 'wonderland' }),
        });
        expect(answer.status).toBe(201);
        const token = ((await answer.json()) as { access_token: string }).access_token;

        const me = await call(url, '/me', { token });
        expect(me.status).toBe(200);
        expect(me.body).toMatchObject({ sub: 'user-1', username: 'alice' });

        expect((await call(url, '/logout', { method: 'POST', token })).status).toBe(201);
        const after = await call(url, '/me', { token });
        expect(after.status).toBe(401);
        expect(after.body).toMatchObject({ error: 'ERR_TOKEN_REVOKED' });
      });
    });
  });

  describe('nx release, dry runs (docs/releasing.md)', () => {
    let next: string;

    /** Runs `nx release <args> --dry-run` in the repo and resolves with its output. */
    function nxRelease(step: string, args: string[]): Promise<string> {
      return timed(`nx release ${step} --dry-run`, () =>
        runCommand(
          path.join(repoRoot(), 'node_modules', '.bin', 'nx'),
          ['release', step, ...args, '--dry-run'],
          {
            cwd: repoRoot(),
            timeoutMs: 180_000,
            env: { NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false', FORCE_COLOR: '0' },
          },
        ),
      );
    }

    beforeAll(async () => {
      const [major, minor] = (await packageVersion()).split('.').map(Number);
      next = `${major}.${(minor as number) + 1}.0`;
    });

    it('version: writes the next version to libs/revocation-nest/package.json', async () => {
      const output = await nxRelease('version', [next]);
      expect(output).toContain(
        `New version ${next} written to manifest: libs/revocation-nest/package.json`,
      );
    });

    it('changelog: previews libs/revocation-nest/CHANGELOG.md from the conventional commits', async () => {
      const output = await nxRelease('changelog', [next]);
      expect(output).toContain(`libs/revocation-nest/CHANGELOG.md for revocation-nest@${next}`);
      // A heading for the version; its entries depend on the commits the clone has.
      expect(output).toContain(`## ${next} (`);
    });

    it('publish: publishes the built package folder, dist/packages/revocation-nest', async () => {
      // The folder the README's install command built above; a release builds it first (`pack`).
      const output = await nxRelease('publish', ['--exclude-task-dependencies']);
      expect(output).toMatch(/name:\s+@rescind\/revocation-nest/);
      expect(output).toMatch(/total files:\s+\d+/);
      expect(output).toContain(
        'Successfully ran target nx-release-publish for project revocation-nest',
      );
    });
  });
});
