import { performance } from 'node:perf_hooks';
import { SessionStore } from '@rescind/revocation-redis';
import { type Registry } from 'prom-client';
import {
  claimsOf,
  deleteKeysWithPrefix,
  metricValue,
  uniqueKeyPrefix,
  waitFor,
} from '@rescind/testing';
import {
  call,
  type RunningTestApp,
  startTestApp,
  testModuleOptions,
  type TestSessionAnswer,
  waitUntilReady,
} from '../testing';
import { RESCIND_METRICS_REGISTRY } from './revocation.module';
import { SessionService } from './session.service';

/** Fan-out (README, "Guarantees and their limits"): other ready replicas reject within 100 ms. */
const FAN_OUT_BUDGET_MS = 100;

interface Answer {
  readonly status: number;
  readonly body: unknown;
}

async function post(baseUrl: string, path: string, body: unknown): Promise<Answer> {
  const response = await fetch(`${baseUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : (JSON.parse(text) as unknown) };
}

async function login(app: RunningTestApp, sub: string): Promise<TestSessionAnswer> {
  const answer = await post(app.url, '/sessions/login', { sub });
  expect(answer.status).toBe(200);
  return answer.body as TestSessionAnswer;
}

function refresh(app: RunningTestApp, refreshToken: string): Promise<Answer> {
  return post(app.url, '/sessions/refresh', { refresh_token: refreshToken });
}

async function status(app: RunningTestApp, token: string): Promise<number> {
  return (await call(app.url, '/me', { token })).status;
}

async function refreshCount(app: RunningTestApp, outcome: string): Promise<number> {
  const text = await app.app.get<Registry>(RESCIND_METRICS_REGISTRY).metrics();
  return metricValue(text, 'rescind_refresh_total', { outcome }) ?? 0;
}

const INVALID_GRANT = {
  error: 'invalid_grant',
  error_description: expect.any(String) as unknown,
};

describe('sessions on two replicas sharing one Redis (Express and Fastify)', () => {
  const keyPrefix = uniqueKeyPrefix();
  let a: RunningTestApp;
  let b: RunningTestApp;
  /** A third replica with the default grace (10 s). */
  let c: RunningTestApp;

  /** Polls `replica` back to back until it rejects `token`; returns the ms elapsed since `fromMs`. */
  async function msUntilRejected(replica: RunningTestApp, token: string, fromMs: number) {
    await waitFor(async () => (await status(replica, token)) === 401, {
      timeoutMs: 5000,
      intervalMs: 0,
      description: `${replica.platform} replica to reject the session's access token`,
    });
    return performance.now() - fromMs;
  }

  beforeAll(async () => {
    // No grace: any refresh token presented again is reuse.
    const options = { refreshReuseGraceMs: 0 };
    a = await startTestApp(
      'express',
      testModuleOptions(keyPrefix, { ...options, instanceId: 'a' }),
    );
    b = await startTestApp(
      'fastify',
      testModuleOptions(keyPrefix, { ...options, instanceId: 'b' }),
    );
    c = await startTestApp('express', testModuleOptions(keyPrefix, { instanceId: 'c' }));
    await waitUntilReady([a, b, c]);
  });

  afterAll(async () => {
    await a?.app.close();
    await b?.app.close();
    await c?.app.close();
    await deleteKeysWithPrefix(keyPrefix);
  });

  it('issues access tokens carrying the sid, accepted by every replica', async () => {
    const session = await login(a, 'ann');
    expect(session.refresh_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(session.sid).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(claimsOf(session.access_token)).toMatchObject({ sub: 'ann', sid: session.sid });
    expect(await status(b, session.access_token)).toBe(200);
  });

  it('rotates: the new pair works on the other replica, the old refresh token is spent', async () => {
    const first = await login(a, 'bea');
    const rotated = await refresh(b, first.refresh_token);
    expect(rotated.status).toBe(200);
    const next = rotated.body as TestSessionAnswer;
    expect(next.sid).toBe(first.sid);
    expect(next.refresh_token).not.toBe(first.refresh_token);
    expect(await status(a, next.access_token)).toBe(200);
  });

  it('answers reuse with invalid_grant and revokes the session: here at once, elsewhere within the budget', async () => {
    const reusedBefore = await refreshCount(b, 'reused');
    const first = await login(a, 'cid');
    const next = (await refresh(a, first.refresh_token)).body as TestSessionAnswer;
    expect(await status(b, next.access_token)).toBe(200);

    const reuse = await refresh(b, first.refresh_token);
    const returnedAt = performance.now();
    expect(reuse).toEqual({ status: 401, body: INVALID_GRANT });
    expect((reuse.body as { error_description: string }).error_description).toMatch(/revoked/);
    // Read your revocation: B rejects the session's tokens from its very next request.
    expect(await status(b, next.access_token)).toBe(401);
    expect(await msUntilRejected(a, next.access_token, returnedAt)).toBeLessThan(FAN_OUT_BUDGET_MS);
    expect(await status(a, first.access_token)).toBe(401);
    // The session's current refresh token died with it.
    expect(await refresh(a, next.refresh_token)).toEqual({ status: 401, body: INVALID_GRANT });
    expect(await refreshCount(b, 'reused')).toBe(reusedBefore + 1);
  });

  it('survives 20 concurrent refreshes of one token: no 5xx, no pair outlives the reuse', async () => {
    const session = await login(a, 'dee');
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => refresh(i % 2 === 0 ? a : b, session.refresh_token)),
    );
    expect(answers.map((x) => x.status).every((s) => s === 200 || s === 401)).toBe(true);
    const issued = answers.filter((x) => x.status === 200).map((x) => x.body as TestSessionAnswer);
    expect(issued).toHaveLength(1);
    const [winner] = issued as [TestSessionAnswer];
    expect((await refresh(a, winner.refresh_token)).status).toBe(401);
    for (const replica of [a, b]) {
      await msUntilRejected(replica, winner.access_token, performance.now());
    }
  });

  it('with a grace, answers two tabs refreshing at once with sibling pairs that both work', async () => {
    const session = await login(c, 'kim');
    const [one, two] = await Promise.all([
      refresh(c, session.refresh_token),
      refresh(c, session.refresh_token),
    ]);
    expect([one?.status, two?.status]).toEqual([200, 200]);
    for (const pair of [one, two].map((x) => x?.body as TestSessionAnswer)) {
      expect(pair.sid).toBe(session.sid);
      expect(await status(a, pair.access_token)).toBe(200);
    }
    // Rotating one sibling rotates the other out; within the grace it still earns a pair.
    const next = await refresh(c, (one?.body as TestSessionAnswer).refresh_token);
    expect(next.status).toBe(200);
    expect((await refresh(c, (two?.body as TestSessionAnswer).refresh_token)).status).toBe(200);
  });

  it('refuses malformed, unknown and access tokens as invalid_grant, a malformed one without asking Redis', async () => {
    const invalidBefore = await refreshCount(a, 'invalid');
    const store = a.app.get(SessionStore);
    const lookup = jest.spyOn(store, 'lookup');
    const session = await login(a, 'eve');
    for (const bad of ['', 'short', `${'A'.repeat(42)}B`, `${'A'.repeat(42)}=`, 'é'.repeat(43)]) {
      expect(await refresh(a, bad)).toEqual({ status: 401, body: INVALID_GRANT });
    }
    expect(lookup).not.toHaveBeenCalled();
    expect(await refresh(a, session.access_token)).toEqual({ status: 401, body: INVALID_GRANT });
    expect(await refresh(a, 'A'.repeat(43))).toEqual({ status: 401, body: INVALID_GRANT });
    lookup.mockRestore();
    expect(await refreshCount(a, 'invalid')).toBe(invalidBefore + 7);
  });

  it('ends a session only for its own user', async () => {
    const sessions = a.app.get(SessionService);
    const mine = await login(a, 'fay');
    expect(await sessions.end(mine.sid, { sub: 'gus' })).toBe(false);
    expect(await sessions.end('not-a-sid', { sub: 'fay' })).toBe(false);
    expect(await status(b, mine.access_token)).toBe(200);
    expect((await sessions.list('fay')).map((s) => s.sid)).toEqual([mine.sid]);

    const response = await fetch(`${a.url}/sessions/${mine.sid}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${mine.access_token}` },
    });
    expect(response.status).toBe(204);
    expect(await status(a, mine.access_token)).toBe(401);
    await msUntilRejected(b, mine.access_token, performance.now());
    expect((await refresh(b, mine.refresh_token)).status).toBe(401);
    expect(await sessions.list('fay')).toEqual([]);
  });

  it('revokes a session for an administrator: marked, recorded, its tokens dead everywhere', async () => {
    const sessions = b.app.get(SessionService);
    const session = await login(a, 'jon');
    const receipt = await sessions.revoke(session.sid, { actor: 'admin', reason: 'stolen' });
    expect(receipt).toMatchObject({ kind: 'session', id: session.sid });
    expect(await status(b, session.access_token)).toBe(401);
    await msUntilRejected(a, session.access_token, performance.now());
    expect((await refresh(a, session.refresh_token)).status).toBe(401);
    expect(await sessions.list('jon')).toEqual([]);
    // Any revocation id an administrator names is recorded; anything else is bad input.
    expect(await sessions.revoke('not-a-session-id')).toMatchObject({ kind: 'session' });
    await expect(sessions.revoke('')).rejects.toMatchObject({ code: 'ERR_INVALID_INPUT' });
  });

  it('ends every session of a user at one commit point: refresh is refused after it', async () => {
    const one = await login(a, 'hal');
    const two = await login(b, 'hal');
    const endAll = await post(a.url, '/sessions/end-all', {});
    expect(endAll.status).toBe(401); // the route needs a token
    const response = await fetch(`${a.url}/sessions/end-all`, {
      method: 'POST',
      headers: { authorization: `Bearer ${one.access_token}` },
    });
    expect(response.status).toBe(204);
    for (const session of [one, two]) {
      expect((await refresh(b, session.refresh_token)).status).toBe(401);
      expect(await status(a, session.access_token)).toBe(401);
    }
    const after = await login(b, 'hal');
    expect(await status(a, after.access_token)).toBe(200);
    expect((await refresh(a, after.refresh_token)).status).toBe(200);
  });

  it('describes a live refresh token for introspection, and nothing else', async () => {
    const sessions = b.app.get(SessionService);
    const session = await login(a, 'ivy');
    expect(await sessions.describe(session.refresh_token)).toMatchObject({
      sid: session.sid,
      sub: 'ivy',
      expiresAtMs: expect.any(Number) as unknown,
    });
    expect(await sessions.describe(session.access_token)).toBeUndefined();
    await refresh(a, session.refresh_token);
    expect(await sessions.describe(session.refresh_token)).toBeUndefined();
  });
});
