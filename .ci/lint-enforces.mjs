#!/usr/bin/env node
// Proves that `npm run lint` enforces the module boundaries and the cycle check on a clean checkout.
//
// `@nx/enforce-module-boundaries` reads Nx's cached project graph and, when there is none, prints
// "No cached ProjectGraph is available. The rule will be skipped" and lets every import pass. So this
// script starts from an empty Nx workspace-data directory (never the checkout's own `.nx`), runs the
// graph step of the `lint` script, then lints fixture sources that break each boundary and expects
// every one to be reported, and fixtures on real edges to be clean. A control run without the graph
// step shows the directory really was empty.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(root);

const GRAPH_STEP = 'nx show projects >/dev/null';
const SKIPPED = 'No cached ProjectGraph is available';
const BOUNDARIES = '@nx/enforce-module-boundaries';
const CYCLE = 'import-x/no-cycle';

/** A file `libs/revocation-core/src/index.ts` re-exports, so importing the index from it is a cycle. */
function reExportedCoreFile() {
  const index = 'libs/revocation-core/src/index.ts';
  for (const [, path] of readFileSync(index, 'utf8').matchAll(/from '\.\/(lib\/[^']+)'/g)) {
    const file = `libs/revocation-core/src/${path}.ts`;
    if (existsSync(file)) return file;
  }
  throw new Error(`${index} re-exports no file under lib/`);
}

/**
 * Each fixture is the text of a file that does not exist (or replaces one that does, for the cycle),
 * linted as if it were at `file`; `expect` lists the rules that must report it, empty for a clean edge.
 */
const FIXTURES = [
  {
    name: 'core imports NestJS',
    file: 'libs/revocation-core/src/lib/lint-fixture.ts',
    text: "import { Injectable } from '@nestjs/common';\nexport const fixture = Injectable;\n",
    expect: [BOUNDARIES],
  },
  {
    name: 'core imports ioredis',
    file: 'libs/revocation-core/src/lib/lint-fixture.ts',
    text: "import Redis from 'ioredis';\nexport const fixture = Redis;\n",
    expect: [BOUNDARIES],
  },
  {
    name: 'core imports the Redis adapter',
    file: 'libs/revocation-core/src/lib/lint-fixture.ts',
    text: "import * as redis from '@rescind/revocation-redis';\nexport const fixture = redis;\n",
    expect: [BOUNDARIES],
  },
  {
    name: 'the Redis adapter imports the NestJS module',
    file: 'libs/revocation-redis/src/lib/lint-fixture.ts',
    text: "import * as nest from '@rescind/revocation-nest';\nexport const fixture = nest;\n",
    expect: [BOUNDARIES],
  },
  {
    name: 'config imports the NestJS module',
    file: 'libs/config/src/lib/lint-fixture.ts',
    text: "import * as nest from '@rescind/revocation-nest';\nexport const fixture = nest;\n",
    expect: [BOUNDARIES],
  },
  {
    name: 'the api imports test support',
    file: 'apps/api/src/lint-fixture.ts',
    text: "import * as testing from '@rescind/testing';\nexport const fixture = testing;\n",
    expect: [BOUNDARIES],
  },
  {
    name: 'a library imports an app',
    file: 'libs/revocation-nest/src/lib/lint-fixture.ts',
    text: "import * as api from '../../../../apps/api/src/main';\nexport const fixture = api;\n",
    expect: [BOUNDARIES],
  },
  {
    name: 'a library file imports its own index through the path alias',
    file: reExportedCoreFile(),
    text: "import * as core from '@rescind/revocation-core';\nexport const fixture = core;\n",
    expect: [CYCLE],
  },
  {
    name: 'the NestJS module imports core and the Redis adapter (a real edge)',
    file: 'libs/revocation-nest/src/lib/lint-fixture.ts',
    text:
      "import * as core from '@rescind/revocation-core';\n" +
      "import * as redis from '@rescind/revocation-redis';\n" +
      'export const fixture = [core, redis];\n',
    expect: [],
  },
  {
    name: 'a test suite imports test support and the module (a real edge)',
    file: 'apps/api-e2e/src/lint-fixture.ts',
    text:
      "import * as testing from '@rescind/testing';\n" +
      "import * as nest from '@rescind/revocation-nest';\n" +
      'export const fixture = [testing, nest];\n',
    expect: [],
  },
];

/** Lints `text` as `file` with the ESLint CLI in a fresh process; true when the boundary rule was skipped. */
function skippedWithout(dataDir, { file, text }) {
  const run = spawnSync(
    'npx',
    ['eslint', '--format', 'json', '--stdin', '--stdin-filename', file],
    {
      input: text,
      encoding: 'utf8',
      env: { ...process.env, NX_WORKSPACE_DATA_DIRECTORY: dataDir },
    },
  );
  return run.stdout.includes(SKIPPED);
}

/** Lints `text` as `file` with the workspace's ESLint; the rules that reported it and their messages. */
async function lint(eslint, { file, text }) {
  const [report] = await eslint.lintText(text, { filePath: file });
  const fatal = report.messages.find((m) => m.fatal);
  if (fatal) throw new Error(`eslint could not parse ${file}: ${fatal.message}`);
  return {
    rules: [...new Set(report.messages.map((m) => m.ruleId))],
    messages: report.messages.map(
      (m) => `${m.line}:${m.column} ${m.ruleId}: ${m.message.split('\n')[0]}`,
    ),
  };
}

const failures = [];
const lintScript = JSON.parse(readFileSync('package.json', 'utf8')).scripts.lint;
const graphAt = lintScript.indexOf(GRAPH_STEP);
if (graphAt < 0 || graphAt > lintScript.indexOf('eslint')) {
  failures.push(`the lint script must run \`${GRAPH_STEP}\` before eslint: "${lintScript}"`);
}

const dataDir = mkdtempSync(join(tmpdir(), 'rescind-nx-'));
try {
  // Control: with no graph the boundary rule is skipped and every import passes. That is the hole.
  if (!skippedWithout(dataDir, FIXTURES[0])) {
    failures.push(
      'control: the boundary rule was not skipped in an empty Nx workspace-data directory',
    );
  }

  const env = { ...process.env, NX_DAEMON: 'false', NX_WORKSPACE_DATA_DIRECTORY: dataDir };
  execFileSync('sh', ['-c', `npx ${GRAPH_STEP}`], { stdio: 'inherit', env });

  // Nx fixes its data directory when its modules load, so the variable is set before ESLint loads them.
  process.env.NX_WORKSPACE_DATA_DIRECTORY = dataDir;
  const { ESLint } = await import('eslint');
  const eslint = new ESLint({ cwd: root });
  let skipped = false;
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = (chunk, ...rest) => {
    if (String(chunk).includes(SKIPPED)) skipped = true;
    return write(chunk, ...rest);
  };

  for (const fixture of FIXTURES) {
    const result = await lint(eslint, fixture);
    const missing = fixture.expect.filter((rule) => !result.rules.includes(rule));
    const unexpected = fixture.expect.length === 0 ? result.messages : [];
    const ok = missing.length === 0 && unexpected.length === 0;
    console.log(`${ok ? 'ok  ' : 'FAIL'} ${fixture.name} (${fixture.file})`);
    for (const message of result.messages) console.log(`       ${message}`);
    if (missing.length > 0) failures.push(`${fixture.name}: not reported by ${missing.join(', ')}`);
    if (unexpected.length > 0) failures.push(`${fixture.name}: a real edge was reported`);
  }
  process.stdout.write = write;
  if (skipped) failures.push('the boundary rule was skipped after the graph step');
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}

if (failures.length > 0) {
  console.error(`\nlint does not enforce the boundaries:\n- ${failures.join('\n- ')}`);
  process.exit(1);
}
console.log(
  `\nlint enforces the module boundaries and the cycle check (${FIXTURES.length} fixtures).`,
);
