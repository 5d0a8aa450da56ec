/**
 * spike: reads jump from a trickle to several times the steady rate and back.
 *
 * Proves that a sudden burst neither fails requests nor lets latency run away, and that the
 * replicas stay ready through it (the revocation check does no I/O, so there is no Redis queue
 * to back up). Run: `k6 run load-tests/k6/spike.ts` (env: BASE_URLS, SPIKE_RATE (default 5000;
 * short 1500), K6_PROFILE=short (seconds instead of 90 s, same thresholds: what `npm run k6` and
 * CI run)).
 */
import { check } from 'k6';
import exec from 'k6/execution';
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

const SPIKE = positiveNumber('SPIKE_RATE', byProfile(5000, 1500));
/** Trickle, rise, hold, fall, trickle. */
const [TRICKLE, RISE, HOLD, FALL, AFTER] = byProfile(
  ['20s', '10s', '30s', '10s', '20s'],
  ['5s', '3s', '10s', '3s', '5s'],
);

export const options: Options = {
  scenarios: {
    spike: {
      executor: 'ramping-arrival-rate',
      startRate: 100,
      timeUnit: '1s',
      preAllocatedVUs: 100,
      maxVUs: 1000,
      stages: [
        { target: 100, duration: TRICKLE },
        { target: SPIKE, duration: RISE },
        { target: SPIKE, duration: HOLD },
        { target: 100, duration: FALL },
        { target: 100, duration: AFTER },
      ],
    },
  },
  thresholds: {
    http_req_failed: ['rate<0.01'],
    'http_req_duration{name:me}': latencySlo(['p(99)<250']),
    'checks{check:ready}': ['rate==1'],
  },
};

interface SetupData {
  tokens: string[];
}

export function setup(): SetupData {
  return { tokens: BASE_URLS.map((base, i) => loginAs(base, `k6-spike-${i}`, 'k6-password-1')) };
}

export default function (data: SetupData): void {
  const i = exec.scenario.iterationInTest % BASE_URLS.length;
  check(http.get(`${replica(i)}/me`, { ...bearer(data.tokens[i]), tags: { name: 'me' } }), {
    'read accepted': (r) => r.status === 200,
  });
}

export function teardown(): void {
  for (const base of BASE_URLS) {
    check(http.get(`${base}/health/ready`, { tags: { name: 'ready' } }), {
      ready: (r) => r.status === 200,
    });
  }
}
