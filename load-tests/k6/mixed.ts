/**
 * mixed: a realistic blend held at a rising arrival rate — about 95% reads (`GET /me`), 4% logins
 * and 1% logouts, spread over every replica.
 *
 * Proves that revocation traffic and password hashing do not disturb reads: thresholds on read
 * latency, on failures (only the intended 401s of revoked tokens are expected, and reads never
 * use revoked tokens). A login the login bulkhead sheds (503 with `Retry-After`, README "Login
 * capacity") is no failure: `login_shed` counts them (a Rate: the share of logins shed), and
 * `login_ok` the logins that succeeded.
 *
 * Run: `k6 run load-tests/k6/mixed.ts` (env: BASE_URLS, PEAK_RATE (reads/s at the peak, default
 * 1900; short 600), K6_PROFILE=short (seconds instead of minutes, same thresholds: what
 * `npm run k6` and CI run)).
 */
import { check } from 'k6';
import exec from 'k6/execution';
import http from 'k6/http';
import { Counter, Rate } from 'k6/metrics';
import { type Options } from 'k6/options';
import {
  BASE_URLS,
  bearer,
  byProfile,
  latencySlo,
  isShed,
  loginAs,
  positiveNumber,
  register,
  replica,
} from './lib/targets.ts';

const PEAK = positiveNumber('PEAK_RATE', byProfile(1900, 600));
const PASSWORD = 'k6-password-1';

/** Logins shed by the login bulkhead (503 with Retry-After): not failures. */
const loginShed = new Rate('login_shed');
/** Logins answered 200. */
const loginOk = new Counter('login_ok');

function ramp(peak: number): { target: number; duration: string }[] {
  const [rise, climb, hold, fall] = byProfile(
    ['30s', '1m', '1m', '15s'],
    ['5s', '10s', '10s', '3s'],
  );
  return [
    { target: Math.max(1, Math.round(peak / 4)), duration: rise },
    { target: peak, duration: climb },
    { target: peak, duration: hold },
    { target: 0, duration: fall },
  ];
}

function rate(share: number): {
  executor: 'ramping-arrival-rate';
  startRate: number;
  timeUnit: string;
  preAllocatedVUs: number;
  maxVUs: number;
  stages: { target: number; duration: string }[];
} {
  const peak = Math.max(1, Math.round((PEAK * share) / 0.95));
  return {
    executor: 'ramping-arrival-rate',
    startRate: 1,
    timeUnit: '1s',
    preAllocatedVUs: Math.max(2, Math.ceil(peak / 20)),
    maxVUs: Math.max(10, Math.ceil(peak / 2)),
    stages: ramp(peak),
  };
}

export const options: Options = {
  scenarios: {
    reads: { ...rate(0.95), exec: 'read' },
    logins: { ...rate(0.04), exec: 'login' },
    logouts: { ...rate(0.01), exec: 'logout' },
  },
  thresholds: {
    'http_req_duration{scenario:reads}': latencySlo(['p(95)<25', 'p(99)<100']),
    'http_req_failed{scenario:reads}': ['rate<0.001'],
    // A login answers 200 or, shed, 503: never anything else.
    'checks{scenario:logins}': ['rate>0.99'],
    'checks{scenario:logouts}': ['rate>0.99'],
  },
};

interface SetupData {
  tokens: string[];
}

/** Long-lived readers: one token per replica, never logged out. */
export function setup(): SetupData {
  return {
    tokens: BASE_URLS.map((base, i) => loginAs(base, `k6-mixed-reader-${i}`, PASSWORD)),
  };
}

export function read(data: SetupData): void {
  const i = exec.scenario.iterationInTest % BASE_URLS.length;
  check(http.get(`${replica(i)}/me`, { ...bearer(data.tokens[i]), tags: { name: 'me' } }), {
    'read accepted': (r) => r.status === 200,
  });
}

/** One login of this VU's user (registered once): 200, or 503 when shed, never retried here. */
export function login(): void {
  const i = exec.scenario.iterationInTest;
  const username = `k6-mixed-${exec.vu.idInTest}`;
  register(replica(i), username, PASSWORD);
  const res = http.post(
    `${replica(i)}/auth/login`,
    JSON.stringify({ username, password: PASSWORD }),
    {
      headers: { 'Content-Type': 'application/json' },
      tags: { name: 'login' },
      responseCallback: http.expectedStatuses(200, 503),
    },
  );
  const shed = isShed(res);
  loginShed.add(shed);
  if (res.status === 200) loginOk.add(1);
  check(res, {
    'login answered 200, or 503 with Retry-After when shed': (r) =>
      r.status === 200 || (shed && Number(r.headers['Retry-After']) > 0),
  });
}

export function logout(): void {
  const i = exec.scenario.iterationInTest;
  const token = loginAs(replica(i), `k6-mixed-out-${exec.vu.idInTest}`, PASSWORD);
  const res = http.post(`${replica(i)}/auth/logout`, null, {
    ...bearer(token),
    tags: { name: 'logout' },
  });
  check(res, { 'logout answered 204': (r) => r.status === 204 });
  check(http.get(`${replica(i)}/me`, { ...bearer(token), tags: { name: 'me-revoked' } }), {
    'revoked token rejected': (r) => r.status === 401,
  });
}
