import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { deleteKeysWithPrefix, repoRoot, TEST_REDIS_URL, waitFor } from '@rescind/testing';
import {
  importSpecifiers,
  listFiles,
  packRevocationNest,
  unpack,
} from './lib/pack-revocation-nest';
import { ScratchNestApp, type ScratchReplica } from './lib/scratch-nest-app';

/** `libs/revocation-nest` packs into a package that works in a fresh NestJS app. */

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

async function login(replica: ScratchReplica): Promise<string> {
  const answer = await call(replica.url, '/login', { method: 'POST' });
  expect(answer.status).toBe(200);
  return (answer.body as { access_token: string }).access_token;
}

describe('@rescind/revocation-nest packed with npm pack', () => {
  const timings: Record<string, number> = {};
  let scratch: string;
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
    tarball = await timed('build and npm pack', () =>
      packRevocationNest(path.join(scratch, 'revocation-nest')),
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

  it('holds the three compiled libraries, its manifest and README, and no test code', () => {
    expect(files).toContain('package.json');
    expect(files).toContain('README.md');
    const tops = new Set(files.filter((f) => f.includes('/')).map((f) => f.split('/')[0]));
    expect([...tops].sort()).toEqual(LIBS);
    // Besides code: the manifest, the README, and the store's Lua scripts, read at run time.
    expect(files.filter((f) => !/\.(js|d\.ts)$/.test(f) && !f.endsWith('.lua'))).toEqual([
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
  });

  it('imports no @rescind/* workspace alias in any file', async () => {
    const offenders: string[] = [];
    for (const file of files) {
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
      version: root.version,
      license: root.license,
      main: 'revocation-nest/src/index.js',
      types: 'revocation-nest/src/index.d.ts',
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
    let app: ScratchNestApp;
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
      app = await ScratchNestApp.generate(path.join(scratch, 'app'), tarball);
      await timed('npm install', () => app.install());
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
});
