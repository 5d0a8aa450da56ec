/**
 * soak: the mixed load held for 5 minutes (about 95% reads, 4% logins, 1% logouts) across every
 * replica, while faults are injected from OUTSIDE k6 (k6 cannot reach Redis): kill the pub/sub
 * connections every 30 s and crash-restart Redis (AOF on) every 90 s, e.g. with
 * `redis-cli CLIENT KILL TYPE pubsub` and `redis-cli SHUTDOWN NOSAVE` under a supervisor that
 * restarts it, or run the Node soak harness instead (`node dist/load-tests/soak/src/main.js`),
 * which starts the stack, holds the same mix and injects the faults itself.
 *
 * Proves that revocation holds under load and faults (README, "Guarantees and their limits"):
 * every logout is probed at once on the replica that answered it and, past the fan-out bound, on
 * every other one; `revoked_token_accepted` counts any acceptance (threshold: none at all). Reads stay fast
 * (thresholds on latency); logins and logouts may answer 503 while Redis is down, reads must not.
 *
 * Logins the login bulkhead sheds (503 `ERR_LOGIN_OVERLOADED`, README "Login capacity") are
 * counted in `login_shed`, apart from the store's 503s.
 *
 * Run: `k6 run load-tests/k6/soak.ts`
 * (env: BASE_URLS, RATE (requests/s of the whole mix, default 300; short 150), DURATION (default
 * 5m; short 20s), BOUND_MS (default 100), K6_PROFILE=short (seconds, same thresholds: what
 * `npm run k6` and CI run, without faults)).
 */
import { check, sleep } from 'k6';
import exec from 'k6/execution';
import http from 'k6/http';
import { Counter } from 'k6/metrics';
import { type Options } from 'k6/options';
import {
  BASE_URLS,
  bearer,
  byProfile,
  latencySlo,
  isShed,
  loginAs,
  positiveNumber,
  replica,
} from './lib/targets.ts';

const RATE = positiveNumber('RATE', byProfile(300, 150));
const DURATION = __ENV.DURATION || byProfile('5m', '20s');
const BOUND_MS = positiveNumber('BOUND_MS', 100);
const PASSWORD = 'k6-password-1';

/** Revoked tokens accepted by the replica that revoked them, or by another past the bound. */
const revokedAccepted = new Counter('revoked_token_accepted');
/** Logins and logouts answered 503 (Redis down): expected during the injected restarts. */
const storeUnavailable = new Counter('store_unavailable_503');
/** Logins shed by the login bulkhead (503 with Retry-After): not failures either. */
const loginShed = new Counter('login_shed');

function constant(share: number): {
  executor: 'constant-arrival-rate';
  rate: number;
  timeUnit: string;
  duration: string;
  preAllocatedVUs: number;
  maxVUs: number;
} {
  const rate = Math.max(1, Math.round(RATE * share));
  return {
    executor: 'constant-arrival-rate',
    rate,
    timeUnit: '1s',
    duration: DURATION,
    preAllocatedVUs: Math.max(2, Math.ceil(rate / 20)),
    maxVUs: Math.max(10, Math.ceil(rate / 2)),
  };
}

export const options: Options = {
  scenarios: {
    reads: { ...constant(0.95), exec: 'read' },
    logins: { ...constant(0.04), exec: 'login' },
    logouts: { ...constant(0.01), exec: 'logout' },
  },
  thresholds: {
    revoked_token_accepted: ['count==0'],
    'http_req_duration{scenario:reads}': latencySlo(['p(95)<50', 'p(99)<250']),
    // Reads never need Redis: no failures at all, through every fault.
    'http_req_failed{scenario:reads}': ['rate<0.0001'],
    'checks{scenario:reads}': ['rate>0.9999'],
    'checks{scenario:logouts}': ['rate>0.95'],
  },
};

interface SetupData {
  tokens: string[];
}

/** Long-lived readers: a few tokens per replica, never logged out. */
export function setup(): SetupData {
  const tokens: string[] = [];
  for (let i = 0; i < BASE_URLS.length * 4; i++) {
    tokens.push(loginAs(replica(i), `k6-soak-reader-${i}`, PASSWORD));
  }
  return { tokens };
}

export function read(data: SetupData): void {
  const i = exec.scenario.iterationInTest;
  const token = data.tokens[i % data.tokens.length];
  check(http.get(`${replica(i)}/me`, { ...bearer(token), tags: { name: 'me' } }), {
    'read accepted': (r) => r.status === 200,
  });
}

export function login(): void {
  const i = exec.scenario.iterationInTest;
  const res = http.post(
    `${replica(i)}/auth/login`,
    JSON.stringify({
      username: `k6-soak-reader-${i % (BASE_URLS.length * 4)}`,
      password: PASSWORD,
    }),
    {
      headers: { 'Content-Type': 'application/json' },
      tags: { name: 'login' },
      responseCallback: http.expectedStatuses(200, 503),
    },
  );
  if (isShed(res)) loginShed.add(1);
  else if (res.status === 503) storeUnavailable.add(1);
  check(res, { 'login answered 200 or 503': (r) => r.status === 200 || r.status === 503 });
}

export function logout(): void {
  const i = exec.scenario.iterationInTest;
  const origin = replica(i);
  let token: string;
  try {
    token = loginAs(origin, `k6-soak-out-${exec.vu.idInTest}`, PASSWORD);
  } catch {
    storeUnavailable.add(1); // Redis down: nothing to log out this time
    return;
  }
  const res = http.post(`${origin}/auth/logout`, null, {
    ...bearer(token),
    tags: { name: 'logout' },
  });
  if (res.status === 503) storeUnavailable.add(1);
  if (!check(res, { 'logout answered 204': (r) => r.status === 204 })) return;
  const returnedAt = Date.now();
  const atOrigin = http.get(`${origin}/me`, { ...bearer(token), tags: { name: 'me-revoked' } });
  if (atOrigin.status === 200) revokedAccepted.add(1, { where: 'origin' });
  check(atOrigin, { 'the replica that answered rejects at once': (r) => r.status === 401 });
  const wait = BOUND_MS + 10 - (Date.now() - returnedAt);
  if (wait > 0) sleep(wait / 1000);
  for (let k = 1; k < BASE_URLS.length; k++) {
    const other = http.get(`${replica(i + k)}/me`, {
      ...bearer(token),
      tags: { name: 'me-revoked' },
    });
    if (other.status === 200) revokedAccepted.add(1, { where: 'fan-out' });
    check(other, { 'every other replica rejects past the bound': (r) => r.status === 401 });
  }
}
