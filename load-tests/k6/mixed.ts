/**
 * mixed: a realistic blend held at a rising arrival rate — about 95% reads (`GET /me`), 4% logins
 * and 1% logouts, spread over every replica.
 *
 * Proves that revocation traffic does not disturb reads: thresholds on read latency, on failures
 * (only the intended 401s of revoked tokens are expected, and reads never use revoked tokens).
 *
 * Run: `k6 run load-tests/k6/mixed.ts` (env: BASE_URLS, PEAK_RATE (reads/s at the peak, default 1900)).
 */
import { check } from 'k6';
import exec from 'k6/execution';
import http from 'k6/http';
import { type Options } from 'k6/options';
import { BASE_URLS, bearer, loginAs, replica } from './lib/targets.ts';

const PEAK = Number(__ENV.PEAK_RATE || 1900);

function ramp(peak: number): { target: number; duration: string }[] {
  return [
    { target: Math.max(1, Math.round(peak / 4)), duration: '30s' },
    { target: peak, duration: '1m' },
    { target: peak, duration: '1m' },
    { target: 0, duration: '15s' },
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
    'http_req_duration{scenario:reads}': ['p(95)<25', 'p(99)<100'],
    'http_req_failed{scenario:reads}': ['rate<0.001'],
    'checks{scenario:logouts}': ['rate>0.99'],
  },
};

interface SetupData {
  tokens: string[];
}

/** Long-lived readers: one token per replica, never logged out. */
export function setup(): SetupData {
  return {
    tokens: BASE_URLS.map((base, i) => loginAs(base, `k6-mixed-reader-${i}`, 'k6-password-1')),
  };
}

export function read(data: SetupData): void {
  const i = exec.scenario.iterationInTest % BASE_URLS.length;
  check(http.get(`${replica(i)}/me`, { ...bearer(data.tokens[i]), tags: { name: 'me' } }), {
    'read accepted': (r) => r.status === 200,
  });
}

export function login(): void {
  const i = exec.scenario.iterationInTest;
  loginAs(replica(i), `k6-mixed-${exec.vu.idInTest}`, 'k6-password-1');
}

export function logout(): void {
  const i = exec.scenario.iterationInTest;
  const token = loginAs(replica(i), `k6-mixed-out-${exec.vu.idInTest}`, 'k6-password-1');
  const res = http.post(`${replica(i)}/auth/logout`, null, {
    ...bearer(token),
    tags: { name: 'logout' },
  });
  check(res, { 'logout answered 204': (r) => r.status === 204 });
  check(http.get(`${replica(i)}/me`, { ...bearer(token), tags: { name: 'me-revoked' } }), {
    'revoked token rejected': (r) => r.status === 401,
  });
}
