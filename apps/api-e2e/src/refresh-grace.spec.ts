import { ApiClient, newCredentials, TestCluster, waitFor } from '@rescind/testing';
import { decodeClaims } from './support/jwt-forge';
import {
  login,
  refresh,
  refreshAnswer,
  refreshCount,
  type SessionPair,
} from './support/session-client';

/** Long enough for two concurrent requests on a busy 2-core machine, short enough to wait out. */
const GRACE_MS = 2_000;

/**
 * `REFRESH_REUSE_GRACE_MS` (README, "Configuration"; docs/design.md, "Sessions"): two tabs that
 * refresh the same token at once both get a pair and the session lives on; a token rotated out
 * longer ago than the grace is reuse.
 */
describe('refresh-token reuse grace', () => {
  const cluster = new TestCluster({
    suite: 'e2e',
    name: 'refresh-grace',
    env: { REFRESH_REUSE_GRACE_MS: String(GRACE_MS) },
  });
  let all: ApiClient[];

  beforeAll(async () => {
    await cluster.start();
    all = cluster.urls.map((url, i) => new ApiClient(url, 'abc'[i]));
  });

  afterAll(() => cluster.stop());

  async function reusedCount(): Promise<number> {
    return refreshCount(await Promise.all(all.map((client) => client.metrics())), 'reused');
  }

  async function statuses(tokens: readonly string[]): Promise<number[]> {
    return (
      await Promise.all(all.map((client) => Promise.all(tokens.map((t) => client.meStatus(t)))))
    ).flat();
  }

  async function session(tag: string): Promise<SessionPair> {
    const credentials = newCredentials(tag);
    const [a] = all as [ApiClient];
    await a.register(credentials);
    return login(a, credentials);
  }

  it('answers two concurrent refreshes of the same token with two pairs of the same session, not as theft', async () => {
    const reusedBefore = await reusedCount();
    const first = await session('two-tabs');

    // Two tabs, each through a different replica, at the same moment.
    const [one, two] = await Promise.all([
      refreshAnswer(all[1] as ApiClient, first.refresh_token),
      refreshAnswer(all[2] as ApiClient, first.refresh_token),
    ]);
    expect([one.status, two.status]).toEqual([200, 200]);
    const pairs = [one.json, two.json] as SessionPair[];
    for (const pair of pairs) expect(decodeClaims(pair.access_token)['sid']).toBe(first.sid);
    expect(pairs[0]?.refresh_token).not.toBe(pairs[1]?.refresh_token);

    // No session revocation was recorded: every token of the session is accepted everywhere.
    expect(await reusedCount()).toBe(reusedBefore);
    const tokens = [first.access_token, ...pairs.map((pair) => pair.access_token)];
    expect(await statuses(tokens)).toEqual(Array(9).fill(200));
    // And the session goes on: a tab refreshes again with the pair it got.
    const next = await refresh(all[0] as ApiClient, pairs[0]?.refresh_token as string);
    expect(decodeClaims(next.access_token)['sid']).toBe(first.sid);
    expect(await statuses([next.access_token])).toEqual([200, 200, 200]);
  });

  it('treats the rotated-out token presented after the grace as reuse: the session ends everywhere', async () => {
    const first = await session('after-grace');
    const second = await refresh(all[1] as ApiClient, first.refresh_token);
    const rotatedAt = Date.now();
    // The grace is a span of the clock: wait on the clock, not a fixed sleep.
    await waitFor(() => Date.now() > rotatedAt + GRACE_MS + 200, {
      timeoutMs: GRACE_MS * 3,
      intervalMs: 50,
      description: 'the grace to pass',
    });

    const reuse = await refreshAnswer(all[2] as ApiClient, first.refresh_token);
    expect(reuse.status).toBe(401);
    expect(reuse.json).toMatchObject({ error: 'invalid_grant' });
    await waitFor(
      async () =>
        (await statuses([first.access_token, second.access_token])).every((s) => s === 401),
      { timeoutMs: 2_000, description: 'every replica to reject the session' },
    );
    expect((await refreshAnswer(all[0] as ApiClient, second.refresh_token)).status).toBe(401);
  });
});
