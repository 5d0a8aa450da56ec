import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ApiReplica } from './api-replica';
import { type HarnessError } from './harness.error';
import { ReplicaSet } from './replica-set';

jest.setTimeout(30_000);

// Stands in for dist/apps/api/src/main.js: ready once READY_AFTER_MS has passed.
const STUB_API = `
const http = require('node:http');
const started = Date.now();
if (process.env.CRASH) { console.error('cannot connect to redis'); process.exit(1); }
http
  .createServer((req, res) => {
    const ready = Date.now() - started >= Number(process.env.READY_AFTER_MS || 0);
    res.setHeader('content-type', 'application/json');
    res.statusCode = req.url === '/health/ready' && !ready ? 503 : 200;
    res.end(JSON.stringify({ instance: process.env.INSTANCE_ID, port: process.env.PORT }));
  })
  .listen(Number(process.env.PORT), '127.0.0.1');
`;

let entry: string;

beforeAll(() => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rescind-api-stub-'));
  entry = path.join(dir, 'main.js');
  fs.writeFileSync(entry, STUB_API);
});

afterAll(() => fs.rmSync(path.dirname(entry), { recursive: true, force: true }));

describe('ApiReplica', () => {
  it('sets PORT and INSTANCE_ID and waits until /health/ready answers 200', async () => {
    const replica = await ApiReplica.start({ entry, env: { READY_AFTER_MS: '200' } });
    try {
      await replica.ready(5_000);
      const body = await (await fetch(replica.url)).json();
      expect(body).toEqual({ instance: `api-${replica.port}`, port: String(replica.port) });
    } finally {
      await replica.stop();
    }
  });

  describe('when the replica dies before it is ready', () => {
    it('fails at once with its output', async () => {
      const replica = await ApiReplica.start({ entry, env: { CRASH: '1' } });

      const error = await replica.ready(20_000).catch((e: unknown) => e);

      expect((error as HarnessError).code).toBe('ERR_PROCESS_EXITED');
      expect((error as Error).message).toMatch(/cannot connect to redis/);
    });
  });

  it('comes back on the same port after restart()', async () => {
    const replica = await ApiReplica.start({ entry });
    try {
      await replica.ready(5_000);
      const firstPid = replica.pid;

      await replica.restart();
      await replica.ready(5_000);

      expect(replica.pid).not.toBe(firstPid);
      expect((await fetch(`${replica.url}/health/ready`)).status).toBe(200);
    } finally {
      await replica.stop();
    }
  });
});

describe('ReplicaSet', () => {
  it('starts every replica in parallel on distinct ports', async () => {
    const set = await ReplicaSet.start({ count: 3, entry, readyTimeoutMs: 5_000 });
    try {
      expect(new Set(set.urls).size).toBe(3);
      for (const url of set.urls) expect((await fetch(`${url}/health/ready`)).status).toBe(200);
    } finally {
      await set.stop();
    }
  });
});
