/**
 * steady-read: valid tokens read `GET /me` across every replica at a constant rate.
 *
 * Proves that the revocation check adds no visible latency: thresholds on p95/p99 and on the
 * failure rate. Run: `k6 run load-tests/k6/steady-read.ts` (env: BASE_URLS, RATE (default 1000;
 * short 300), DURATION (default 1m; short 15s), K6_PROFILE=short (seconds instead of minutes,
 * same thresholds: what `npm run k6` and CI run)).
 */
import { check } from 'k6';
import http from 'k6/http';
import { type Options } from 'k6/options';
import {
  BASE_URLS,
  bearer,
  byProfile,
  latencySlo,
  loginAs,
  positiveNumber,
  replica,
} from './lib/targets.ts';

export const options: Options = {
  scenarios: {
    reads: {
      executor: 'constant-arrival-rate',
      rate: positiveNumber('RATE', byProfile(1000, 300)),
      timeUnit: '1s',
      duration: __ENV.DURATION || byProfile('1m', '15s'),
      preAllocatedVUs: 50,
      maxVUs: 200,
    },
  },
  thresholds: {
    http_req_failed: ['rate<0.001'],
    'http_req_duration{name:me}': latencySlo(['p(95)<20', 'p(99)<50']),
  },
};

interface SetupData {
  tokens: string[];
}

export function setup(): SetupData {
  const tokens = BASE_URLS.map((base, i) => loginAs(base, `k6-steady-${i}`, 'k6-password-1'));
  return { tokens };
}

export default function (data: SetupData): void {
  const i = Math.floor(Math.random() * BASE_URLS.length);
  const res = http.get(`${replica(i)}/me`, { ...bearer(data.tokens[i]), tags: { name: 'me' } });
  check(res, { 'status is 200': (r) => r.status === 200 });
}
