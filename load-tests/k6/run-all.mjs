// Runs every k6 scenario against a local stack of its own: `npm run k6` (short profile, seconds
// each: what CI runs) or `npm run k6 -- --full` (the documented lengths). Optional scenario names
// pick some: `npm run k6 -- mixed spike`.
//
// Starts the built stack (`node dist/apps/stack/src/main.js`, what `npm start` runs after its
// build) on free ports with a private redis-server, waits until every replica answers
// /health/ready, runs each scenario with the first k6 found (`$K6`, then `k6` on PATH, then
// `../shared/tools/k6/k6` from the repository root), and always stops the stack. Exits non-zero
// when any threshold was crossed. Without k6 it says so loudly and exits 0, unless
// `REQUIRE_K6=1`. See load-tests/README.md, "k6 scenarios".
import { spawn, spawnSync } from 'node:child_process';
import {
  accessSync,
  constants,
  createWriteStream,
  existsSync,
  mkdtempSync,
  readFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SCENARIOS = ['steady-read', 'revoke-propagation', 'spike', 'mixed', 'soak'];
const READY_TIMEOUT_MS = 90_000;
const STOP_TIMEOUT_MS = 20_000;

function usage(problem) {
  console.error(`k6: ${problem}`);
  console.error(`usage: node load-tests/k6/run-all.mjs [--full] [${SCENARIOS.join('|')} ...]`);
  process.exit(2);
}

const args = process.argv.slice(2);
const full = args.includes('--full');
const picked = args.filter((arg) => arg !== '--full');
for (const arg of picked) {
  if (arg.startsWith('-') || !SCENARIOS.includes(arg)) usage(`unknown argument "${arg}"`);
}
const scenarios = picked.length > 0 ? picked : SCENARIOS;
const requireK6 = process.env.REQUIRE_K6 === '1';
if (!['', undefined, '0', '1'].includes(process.env.REQUIRE_K6)) {
  usage(`REQUIRE_K6 must be 0 or 1, got "${process.env.REQUIRE_K6}"`);
}

function executable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** `$K6`, then `k6` on PATH, then the shared tools directory next to the repository. */
function findK6() {
  const fromEnv = process.env.K6;
  if (fromEnv) {
    if (!executable(fromEnv)) usage(`K6=${fromEnv} is not an executable file`);
    return fromEnv;
  }
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && executable(join(dir, 'k6'))) return join(dir, 'k6');
  }
  const shared = resolve(repo, '../shared/tools/k6/k6');
  return executable(shared) ? shared : undefined;
}

function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

async function ready(url) {
  try {
    const response = await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(2_000) });
    return response.status === 200;
  } catch {
    return false;
  }
}

const k6 = findK6();
if (k6 === undefined) {
  const banner = '!'.repeat(78);
  console.error(
    `\n${banner}\n!! k6 not found: $K6, k6 on PATH and ../shared/tools/k6/k6 are all missing.`,
  );
  console.error('!! Install it (load-tests/README.md, "k6 scenarios") to run the load scenarios.');
  console.error(
    `!! ${requireK6 ? 'REQUIRE_K6=1: failing.' : 'Skipping them (REQUIRE_K6=1 makes this fatal).'}\n${banner}\n`,
  );
  process.exit(requireK6 ? 1 : 0);
}
const stackEntry = join(repo, 'dist/apps/stack/src/main.js');
if (!existsSync(stackEntry)) usage(`${stackEntry} is missing: run \`npm run build\` first`);

const version = spawnSync(k6, ['version'], { encoding: 'utf8' });
console.log(`k6: ${k6} (${(version.stdout ?? '').trim() || 'version unknown'})`);
console.log(`k6: profile ${full ? 'full' : 'short'}; scenarios ${scenarios.join(', ')}`);

const ports = [];
while (ports.length < 3) {
  const port = await freePort();
  if (!ports.includes(port)) ports.push(port);
}
const urls = ports.map((port) => `http://127.0.0.1:${port}`);
const logDir = mkdtempSync(join(tmpdir(), 'rescind-k6-'));
const stackLog = join(logDir, 'stack.log');
const log = createWriteStream(stackLog);
const env = {
  ...process.env,
  API_PORTS: ports.join(','),
  WORKER_METRICS_PORT: '0',
  LOG_LEVEL: 'warn',
};
// A private redis-server, whatever the shell says: the scenarios register users and revoke.
delete env.REDIS_URL;
delete env.KEY_PREFIX;
const stack = spawn(process.execPath, [stackEntry], {
  cwd: repo,
  env,
  stdio: ['ignore', 'pipe', 'pipe'],
});
stack.stdout.pipe(log);
stack.stderr.pipe(log);
const stackExited = new Promise((done) =>
  stack.once('exit', (code, signal) => done({ code, signal })),
);
let stackGone = false;
void stackExited.then(() => (stackGone = true));

let stopping;
function stopStack() {
  stopping ??= (async () => {
    if (stackGone) return;
    stack.kill('SIGTERM');
    const outcome = await Promise.race([stackExited, sleep(STOP_TIMEOUT_MS).then(() => 'timeout')]);
    if (outcome === 'timeout') {
      console.error('k6: the stack did not stop in time; killing it');
      stack.kill('SIGKILL');
      await stackExited;
    }
  })();
  return stopping;
}
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    console.error(`k6: ${signal}: stopping the stack`);
    void stopStack().then(() => process.exit(130));
  });
}

function tail(path, lines = 40) {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

let status = 0;
try {
  const started = Date.now();
  console.log(`k6: starting the stack on ${urls.join(', ')} (log: ${stackLog})`);
  for (;;) {
    if (stackGone) throw new Error('the stack exited during start-up');
    if ((await Promise.all(urls.map(ready))).every(Boolean)) break;
    if (Date.now() - started > READY_TIMEOUT_MS) {
      throw new Error(
        `not every replica answered /health/ready within ${READY_TIMEOUT_MS / 1000} s`,
      );
    }
    await sleep(250);
  }
  console.log(`k6: every replica ready after ${((Date.now() - started) / 1000).toFixed(1)} s`);

  const results = [];
  for (const scenario of scenarios) {
    if (stackGone) throw new Error('the stack exited');
    console.log(`\n==== k6 ${scenario} (${full ? 'full' : 'short'}) ====`);
    const scenarioStarted = Date.now();
    const run = spawnSync(k6, ['run', '--quiet', join(repo, `load-tests/k6/${scenario}.ts`)], {
      cwd: repo,
      stdio: 'inherit',
      env: { ...process.env, BASE_URLS: urls.join(','), K6_PROFILE: full ? 'full' : 'short' },
    });
    const seconds = ((Date.now() - scenarioStarted) / 1000).toFixed(0);
    // k6 exits 99 when a threshold was crossed; anything else non-zero is an error of the run.
    const verdict =
      run.status === 0
        ? 'passed'
        : run.status === 99
          ? 'THRESHOLDS CROSSED'
          : `FAILED (${run.error?.message ?? `exit ${run.status ?? run.signal}`})`;
    results.push({ scenario, verdict, seconds });
    if (run.status !== 0) status = 1;
  }
  console.log('\n==== k6 summary ====');
  for (const { scenario, verdict, seconds } of results) {
    console.log(`${scenario.padEnd(20)} ${verdict} (${seconds} s)`);
  }
} catch (error) {
  status = 1;
  console.error(`k6: ${error instanceof Error ? error.message : String(error)}`);
  console.error(`---- stack log (last lines of ${stackLog}) ----\n${tail(stackLog)}`);
} finally {
  await stopStack();
}
process.exit(status);
