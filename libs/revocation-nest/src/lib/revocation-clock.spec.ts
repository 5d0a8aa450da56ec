import { type Clock, NotInSyncError } from '@rescind/revocation-core';
import { deleteKeysWithPrefix, uniqueKeyPrefix, waitFor as waitUntil } from '@rescind/testing';
import { readiness, type RunningTestApp, startTestApp, testModuleOptions } from '../testing';
import { type AccessTokenClaims } from './access-token-claims';
import { RevocationChecker } from './revocation.checker';
import { REVOCATION_CLOCK } from './revocation.constants';
import { RevocationHealth } from './revocation-health';
import { TokenService } from './token.service';

const TEN_MINUTES_MS = 600_000;

describe('the clock given to RevocationModule', () => {
  const keyPrefix = uniqueKeyPrefix();
  // Real time, shifted by what a test sets: it moves (issue() and readiness need that), and a
  // jump shows who reads it.
  let offsetMs = 0;
  const clock: Clock = { now: () => Date.now() + offsetMs };
  let running: RunningTestApp;
  let claims: AccessTokenClaims;

  beforeAll(async () => {
    running = await startTestApp('express', testModuleOptions(keyPrefix, { clock }));
    await waitUntil(async () => (await readiness(running.url)).ready, {
      timeoutMs: 5000,
      description: 'the app to be ready',
    });
    claims = running.app.get(TokenService).sign('alice').claims;
  });

  afterEach(() => {
    offsetMs = 0;
  });

  afterAll(async () => {
    await running?.app.close();
    await deleteKeysWithPrefix(keyPrefix);
  });

  it('is the one provided as REVOCATION_CLOCK', () => {
    expect(running.app.get(REVOCATION_CLOCK)).toBe(clock);
  });

  // Each jump below is read back in the same synchronous turn, before any sync tick can run.
  it('dates the tokens TokenService signs', () => {
    offsetMs = TEN_MINUTES_MS;
    const signed = running.app.get(TokenService).sign('bob').claims;
    const expected = clock.now();
    expect(signed.iatMs).toBeGreaterThan(expected - 50);
    expect(signed.iatMs).toBeLessThanOrEqual(expected);
  });

  it("is what the guard's checker reads: ten minutes on, the replica is stale", () => {
    const checker = running.app.get(RevocationChecker);
    expect(checker.check(claims)).toBe(true);
    offsetMs = TEN_MINUTES_MS;
    expect(() => checker.check(claims)).toThrow(NotInSyncError);
  });

  it('is what the health indicator reads: ten minutes on, not ready', () => {
    const health = running.app.get(RevocationHealth);
    expect(health.readiness().ready).toBe(true);
    offsetMs = TEN_MINUTES_MS;
    const readinessThen = health.readiness();
    expect(readinessThen.ready).toBe(false);
    expect(readinessThen.stalenessMs).toBeGreaterThanOrEqual(TEN_MINUTES_MS);
  });
});
