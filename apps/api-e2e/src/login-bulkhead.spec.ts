import { setTimeout } from 'node:timers/promises';
import {
  type ApiAnswer,
  type ApiClient,
  metricValue,
  newCredentials,
  percentile,
  TestCluster,
  waitFor,
} from '@rescind/testing';

/** Concurrent login loops: more than one hashing slot and its queue of 8 hold. */
const FLOODERS = 12;
/**
 * What a flooder waits after a 503 before trying again: far less than the `Retry-After` it was
 * given, so that the flood keeps pressing, without turning into a busy loop of cheap refusals in
 * this process, which measures the reads too.
 */
const FLOODER_PAUSE_MS = 100;
/** How long the flood lasts. */
const FLOOD_MS = 3_000;
/**
 * Bound on the p95 of `GET /me` during the flood. Quiet, reads answer in about a millisecond;
 * the bound leaves room for CI, whose two cores are both held busy by other processes.
 */
const READ_P95_BOUND_MS = 250;

describe('the login bulkhead (one hashing slot, production hash cost)', () => {
  const cluster = new TestCluster({
    suite: 'e2e',
    name: 'login-bulkhead',
    replicas: 1,
    // OWASP's Argon2id cost: each hash takes real CPU, as in production.
    env: {
      LOGIN_MAX_CONCURRENT_HASHES: '1',
      PASSWORD_HASH_COST: '19456',
      LOGIN_FAILURE_LIMIT: '1000000',
      LOGIN_IP_FAILURE_LIMIT: '1000000',
    },
  });
  let client: ApiClient;

  beforeAll(async () => {
    await cluster.start();
    client = cluster.clients[0] as ApiClient;
  });

  afterAll(() => cluster.stop());

  it('sheds a flood of logins with 503, Retry-After and JSON, counts them, and reads stay fast', async () => {
    const credentials = newCredentials('flood');
    const reader = await client.registerAndLogin(credentials);
    const shedBefore =
      metricValue(await client.metrics(), 'rescind_login_shed_total', { operation: 'login' }) ??
      Number.NaN;

    const logins: ApiAnswer[] = [];
    const reads: ApiAnswer[] = [];
    const until = Date.now() + FLOOD_MS;
    const flooder = async (): Promise<void> => {
      while (Date.now() < until) {
        const answer = await client.loginAnswer(credentials);
        logins.push(answer);
        if (answer.status === 503) await setTimeout(FLOODER_PAUSE_MS);
      }
    };
    const readLoop = async (): Promise<void> => {
      while (Date.now() < until) reads.push(await client.me(reader));
    };
    await Promise.all([readLoop(), ...Array.from({ length: FLOODERS }, flooder)]);

    const shed = logins.filter((answer) => answer.status === 503);
    const statuses = new Set(logins.map((answer) => answer.status));
    expect(shed.length).toBeGreaterThan(0);
    // Every login either went through or was shed: nothing else, nothing lost.
    expect([...statuses].sort()).toEqual([200, 503]);
    for (const answer of shed) {
      expect(Number(answer.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
      expect(answer.json).toMatchObject({ statusCode: 503, error: 'ERR_LOGIN_OVERLOADED' });
    }
    const shedAfter = metricValue(await client.metrics(), 'rescind_login_shed_total', {
      operation: 'login',
    });
    expect(shedAfter).toBe(shedBefore + shed.length);

    // Reads kept answering, all of them, and fast.
    expect(reads.length).toBeGreaterThan(10);
    expect(reads.filter((answer) => answer.status !== 200)).toEqual([]);
    const latencies = reads
      .map((answer) => answer.doneAtMs - answer.sentAtMs)
      .sort((a, b) => a - b);
    expect(percentile(latencies, 95)).toBeLessThan(READ_P95_BOUND_MS);

    // The flood over, logins go through again.
    await waitFor(async () => (await client.loginAnswer(credentials)).status === 200, {
      timeoutMs: 10_000,
      description: 'a login to succeed after the flood',
    });
  });
});
