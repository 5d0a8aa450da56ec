import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { RedisServer, freePort, redisCommand } from '@rescind/testing';
import { Stack, type StackOptions } from './stack';
import { type StackError } from './stack.error';

jest.setTimeout(30_000);

// Stand-ins for the built API and worker, so the launcher is tested on its own.
const STUB_API = `
const http = require('node:http');
if (process.env.STUB_API_CRASH) { console.error('boom'); process.exit(1); }
http
  .createServer((req, res) => {
    res.statusCode = req.url === '/health/ready' && process.env.STUB_API_NEVER_READY ? 503 : 200;
    res.end(JSON.stringify({ instance: process.env.INSTANCE_ID, redis: process.env.REDIS_URL, adminKey: process.env.ADMIN_API_KEY, logFormat: process.env.LOG_FORMAT, pid: process.pid }));
  })
  .listen(Number(process.env.PORT));
`;
const STUB_WORKER = `console.log('worker ready'); setInterval(() => {}, 1000);`;

let stubs: string;
const stacks: Stack[] = [];

beforeAll(() => {
  stubs = fs.mkdtempSync(path.join(os.tmpdir(), 'rescind-stack-stubs-'));
  fs.writeFileSync(path.join(stubs, 'api.js'), STUB_API);
  fs.writeFileSync(path.join(stubs, 'worker.js'), STUB_WORKER);
  fs.writeFileSync(
    path.join(stubs, 'api-crash.js'),
    `process.env.STUB_API_CRASH = '1';\n${STUB_API}`,
  );
  fs.writeFileSync(
    path.join(stubs, 'api-never-ready.js'),
    `process.env.STUB_API_NEVER_READY = '1';\n${STUB_API}`,
  );
});

afterEach(async () => {
  await Promise.all(stacks.splice(0).map((stack) => stack.stop()));
});

afterAll(() => fs.rmSync(stubs, { recursive: true, force: true }));

async function ports(count: number): Promise<number[]> {
  const chosen = new Set<number>();
  while (chosen.size < count) chosen.add(await freePort());
  return [...chosen];
}

/** The admin key the stacks below make up, as parseStackConfig would when none is set. */
const MADE_UP_ADMIN_KEY = 'stack-spec-made-up-admin-key';

async function makeStack(
  overrides: Partial<StackOptions> & {
    redisUrl?: string;
    apiPorts?: number[];
    childLogFormat?: 'pretty';
  } = {},
): Promise<{ stack: Stack; logs: string[] }> {
  const logs: string[] = [];
  const { redisUrl, apiPorts = await ports(2), childLogFormat, ...options } = overrides;
  const stack = new Stack({
    config: {
      apiPorts,
      redisUrl,
      adminApiKey: { value: MADE_UP_ADMIN_KEY, generated: true },
      childLogFormat,
    },
    apiEntry: path.join(stubs, 'api.js'),
    workerEntry: path.join(stubs, 'worker.js'),
    echo: false,
    log: (line) => logs.push(line),
    ...options,
  });
  stacks.push(stack);
  return { stack, logs };
}

interface ReplicaInfo {
  instance: string;
  redis: string;
  pid: number;
}

async function replicaInfo(url: string): Promise<ReplicaInfo> {
  return (await (await fetch(url)).json()) as ReplicaInfo;
}

/** The session a process belongs to (Linux, `/proc/<pid>/stat`): what the CPU is first shared by. */
function sessionOf(pid: number | 'self'): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // After "pid (comm)": state, ppid, pgrp, session.
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[3]);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('Stack', () => {
  describe('without REDIS_URL', () => {
    it('starts a private Redis, the worker and every replica, and reports their URLs', async () => {
      const apiPorts = await ports(3);
      const { stack } = await makeStack({ apiPorts });

      const running = await stack.start();

      expect(running.apiUrls).toEqual(apiPorts.map((port) => `http://127.0.0.1:${port}`));
      expect(running.privateRedis).toBe(true);
      expect(await redisCommand(running.redisUrl, ['PING'])).toBe('PONG');
      for (const [index, url] of running.apiUrls.entries()) {
        expect(await replicaInfo(url)).toMatchObject({
          instance: `api-${apiPorts[index]}`,
          redis: running.redisUrl,
          adminKey: MADE_UP_ADMIN_KEY,
        });
      }
    });

    it('makes its children write readable lines when it writes to a terminal', async () => {
      const { stack } = await makeStack({ childLogFormat: 'pretty' });
      const running = await stack.start();
      for (const url of running.apiUrls) {
        expect(await replicaInfo(url)).toMatchObject({ logFormat: 'pretty' });
      }
    });

    // The replicas' hashing threads run at a lower priority than every replica's reads only if
    // the replicas share one session: Linux divides the CPU between sessions (autogroups) before
    // niceness counts (docs/design.md, "Login bulkhead").
    (fs.existsSync('/proc/self/stat') ? it : it.skip)(
      "keeps the replicas in the launcher's session, so that their niceness is weighed together",
      async () => {
        const { stack } = await makeStack();
        const running = await stack.start();

        for (const url of running.apiUrls) {
          expect(sessionOf((await replicaInfo(url)).pid)).toBe(sessionOf('self'));
        }
      },
    );

    it('stops every child, then Redis, and removes its data dir', async () => {
      const { stack, logs } = await makeStack();
      const running = await stack.start();
      const pids = await Promise.all(
        running.apiUrls.map(async (url) => (await replicaInfo(url)).pid),
      );
      const dataDir = /data in (.+)\)$/.exec(logs.join('\n'))?.[1] as string;
      expect(fs.existsSync(dataDir)).toBe(true);

      await stack.stop();

      expect(pids.filter(isAlive)).toEqual([]);
      await expect(redisCommand(running.redisUrl, ['PING'])).rejects.toThrow();
      expect(fs.existsSync(dataDir)).toBe(false);
    });
  });

  describe('with REDIS_URL', () => {
    it('uses that Redis and starts none of its own', async () => {
      const redis = await RedisServer.start({ appendonly: false });
      try {
        const { stack, logs } = await makeStack({ redisUrl: redis.url });

        const running = await stack.start();

        expect(running.privateRedis).toBe(false);
        expect((await replicaInfo(running.apiUrls[0] as string)).redis).toBe(redis.url);
        expect(logs.join('\n')).not.toMatch(/private redis-server/);
      } finally {
        await redis.dispose();
      }
    });
  });

  describe('when a replica dies during start-up', () => {
    it('fails naming it and stops the rest', async () => {
      const { stack } = await makeStack({ apiEntry: path.join(stubs, 'api-crash.js') });

      const error = (await stack.start().catch((e: unknown) => e)) as StackError;

      expect(error.code).toBe('ERR_CHILD_EXITED');
      expect(error.message).toMatch(/^api-\d+ exited during start-up \(code 1\)$/);
    });
  });

  describe('when a replica never becomes ready', () => {
    it('gives up after the timeout naming what was not ready', async () => {
      const apiPorts = await ports(2);
      const { stack } = await makeStack({
        apiPorts,
        apiEntry: path.join(stubs, 'api-never-ready.js'),
        readyTimeoutMs: 500,
      });

      const error = (await stack.start().catch((e: unknown) => e)) as StackError;

      expect(error.code).toBe('ERR_START_TIMEOUT');
      // Each named with the last reason seen: the stub's 503 or, on a busy machine, a stub that
      // is not listening yet.
      for (const port of apiPorts) {
        expect(error.message).toMatch(
          new RegExp(`api-${port} \\((/health/ready answered 503|[^)]*fetch failed)\\)`),
        );
      }
    });
  });

  describe('when a child exits after start', () => {
    it('reports which one', async () => {
      const { stack } = await makeStack();
      const running = await stack.start();
      const victim = running.apiUrls[1] as string;

      process.kill((await replicaInfo(victim)).pid, 'SIGKILL');

      expect(await stack.failed).toEqual({
        name: `api-${new URL(victim).port}`,
        exit: { code: null, signal: 'SIGKILL' },
      });
    });
  });

  describe('when an API port is taken', () => {
    it('fails before starting anything', async () => {
      const blocker = net.createServer();
      await new Promise<void>((resolve) => blocker.listen(0, resolve));
      const { port } = blocker.address() as net.AddressInfo;
      try {
        const { stack, logs } = await makeStack({ apiPorts: [port] });

        const error = (await stack.start().catch((e: unknown) => e)) as StackError;

        expect(error.code).toBe('ERR_PORT_IN_USE');
        expect(error.message).toContain(`port ${port} is already in use`);
        expect(logs).toEqual([]);
      } finally {
        await new Promise((resolve) => blocker.close(resolve));
      }
    });
  });
});
