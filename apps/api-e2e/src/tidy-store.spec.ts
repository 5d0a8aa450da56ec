import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  acceptedBeyond,
  ApiClient,
  type ApiReplica,
  elapsed,
  send,
  TestCluster,
  timeUntilRejected,
  userWithTokens,
  waitFor,
} from '@rescind/testing';

const TOKEN_TTL_SECONDS = 2;
const TIDY_TIMEOUT_MS = 15_000;

/** What revocations left in Redis: record keys of each kind, index entries and log entries. */
interface StoreLeftovers {
  tokenRecords: number;
  userRecords: number;
  sessionRecords: number;
  indexEntries: number;
  logEntries: number;
}

describe(`when revoked tokens have expired (ACCESS_TOKEN_TTL=${TOKEN_TTL_SECONDS}) and the worker has run`, () => {
  const cluster = new TestCluster({
    suite: 'e2e',
    name: 'tidy',
    env: { ACCESS_TOKEN_TTL: String(TOKEN_TTL_SECONDS) },
    worker: { TIDY_INTERVAL_MS: '200' },
  });
  let replicas: ApiClient[];
  let revoked: string[];

  async function leftovers(): Promise<StoreLeftovers> {
    const count = async (pattern: string): Promise<number> => {
      const keys = await cluster.redis.command('KEYS', cluster.key(pattern));
      return Array.isArray(keys) ? keys.length : 0;
    };
    return {
      tokenRecords: await count('rev:t:*'),
      userRecords: await count('rev:u:*'),
      sessionRecords: await count('rev:s:*'),
      indexEntries: Number(await cluster.redis.cli('ZCARD', cluster.key('rev', 'index'))),
      logEntries: Number(await cluster.redis.cli('XLEN', cluster.key('rev', 'log'))),
    };
  }

  /** Resolves when nothing is left; otherwise throws what is, for the timeout message. */
  async function tidy(): Promise<true> {
    const left = await leftovers();
    if (Object.values(left).some((count) => count !== 0)) {
      throw new Error(`left in Redis: ${JSON.stringify(left)}`);
    }
    return true;
  }

  beforeAll(async () => {
    await cluster.start();
    replicas = cluster.urls.map((url) => new ApiClient(url));
  });

  afterAll(() => cluster.stop());

  it('has recorded logouts, a logout-all and an RFC 7009 revocation in Redis at first', async () => {
    const [a, b, c] = replicas as [ApiClient, ApiClient, ApiClient];
    const single = await userWithTokens(a, replicas, 5, 'tidy');
    const everywhere = await userWithTokens(b, replicas, 3, 'tidy-all');
    const [first, second, third, viaOAuth] = single.tokens as [string, string, string, string];

    await a.logout(first);
    await b.logout(second);
    await c.logout(third);
    const oauth = await send(`${c.baseUrl}/oauth/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: viaOAuth, token_type_hint: 'access_token' }).toString(),
    });
    expect(oauth.status).toBe(200);
    await a.logoutAll(everywhere.tokens[0] as string);
    revoked = [first, second, third, viaOAuth, ...everywhere.tokens];

    // A logout ends the token's session (README, "Sessions and refresh tokens"): three sessions,
    // the RFC 7009 revocation of an access token, and the user's cut-off.
    expect(await leftovers()).toEqual({
      tokenRecords: 1,
      userRecords: 1,
      sessionRecords: 3,
      indexEntries: 5,
      logEntries: 5,
    });
    expect(await Promise.all(revoked.map((token) => c.meStatus(token)))).toEqual(
      Array(revoked.length).fill(401),
    );
  });

  it('leaves nothing of them in Redis: no records, an empty index and an empty log', async () => {
    const startedAt = performance.now();
    await waitFor(tidy, {
      timeoutMs: TIDY_TIMEOUT_MS,
      intervalMs: 100,
      description: 'the store to be tidy',
    });
    console.log(
      `store tidy ${(performance.now() - startedAt).toFixed(0)} ms after the revocations`,
    );
    // And the tokens themselves are dead of old age on every replica.
    for (const client of replicas) {
      const answer = await client.me(revoked[0] as string);
      expect(answer.status).toBe(401);
      expect(answer.headers.get('www-authenticate')).toContain('expired');
    }
  });

  it('keeps every replica in sync across the trimmed log: ready, and fanning out new revocations', async () => {
    const [a, b, c] = replicas as [ApiClient, ApiClient, ApiClient];
    expect(await Promise.all(replicas.map((client) => client.isReady()))).toEqual([
      true,
      true,
      true,
    ]);
    const { tokens } = await userWithTokens(a, replicas, 1, 'after-tidy');
    await a.logout(tokens[0] as string);
    const returnedAt = performance.now();
    const rejections = await Promise.all(
      [b, c].map((client) => timeUntilRejected(client, tokens[0] as string, returnedAt, 2_000)),
    );
    expect(acceptedBeyond(rejections, 100)).toEqual([]);
    expect(Math.max(...elapsed(rejections))).toBeLessThan(1_000);
  });

  it('lets a replica restarted after the trim hydrate and become ready', async () => {
    const replicaC = cluster.replicas[2] as ApiReplica;
    await replicaC.restart();
    await replicaC.ready(15_000);
    // Logged in only now: tokens live two seconds, less than a restart may take on this machine.
    const { tokens } = await userWithTokens(
      replicas[0] as ApiClient,
      replicas,
      1,
      'restart-after-tidy',
    );
    await (replicas[0] as ApiClient).logout(tokens[0] as string);
    await waitFor(
      async () => (await (replicas[2] as ApiClient).meStatus(tokens[0] as string)) === 401,
      {
        timeoutMs: 1_000,
        description: 'the restarted replica to reject a new logout',
      },
    );
  });

  describe('when Redis later comes back empty (its data lost)', () => {
    beforeAll(async () => {
      await cluster.redis.stop();
      for (const entry of fs.readdirSync(cluster.redis.dir)) {
        fs.rmSync(path.join(cluster.redis.dir, entry), { recursive: true, force: true });
      }
      await cluster.redis.restart();
      await waitFor(
        async () => (await Promise.all(replicas.map((client) => client.isReady()))).every(Boolean),
        { timeoutMs: 15_000, description: 'every replica to be ready on the empty Redis' },
      );
    });

    it('keeps tidying: revocations made afterwards also leave nothing behind once expired', async () => {
      const [a, b] = replicas as [ApiClient, ApiClient];
      const { tokens } = await userWithTokens(a, replicas, 3, 'tidy-after-loss');
      await a.logout(tokens[0] as string);
      await b.logoutAll(tokens[1] as string);
      expect((await leftovers()).indexEntries).toBeGreaterThan(0);

      await waitFor(tidy, {
        timeoutMs: 10_000,
        intervalMs: 100,
        description: 'the store to be tidy again',
      });
    });
  });
});
