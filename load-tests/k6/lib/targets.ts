/**
 * Shared helpers for the k6 scenarios: the replicas under test and account set-up.
 * k6 runs this as JavaScript: only `k6/*` and relative imports, no Node APIs.
 */
import http from 'k6/http';

/** Replica base URLs from `BASE_URLS` (comma-separated); defaults to the three of `npm start`. */
export const BASE_URLS: string[] = (
  __ENV.BASE_URLS || 'http://127.0.0.1:3001,http://127.0.0.1:3002,http://127.0.0.1:3003'
)
  .split(',')
  .map((url) => url.trim().replace(/\/$/, ''))
  .filter((url) => url.length > 0);

/** A replica chosen round-robin by iteration number. */
export function replica(index: number): string {
  return BASE_URLS[index % BASE_URLS.length];
}

const JSON_HEADERS = { 'Content-Type': 'application/json' };

/** Registers (ignoring 409) and logs in; returns the access token. */
export function loginAs(base: string, username: string, password: string): string {
  const body = JSON.stringify({ username, password });
  http.post(`${base}/auth/register`, body, { headers: JSON_HEADERS, tags: { name: 'register' } });
  const res = http.post(`${base}/auth/login`, body, {
    headers: JSON_HEADERS,
    tags: { name: 'login' },
  });
  if (res.status !== 200)
    throw new Error(`login failed on ${base}: ${res.status} ${String(res.body)}`);
  return (res.json() as { access_token: string }).access_token;
}

/** Headers presenting a bearer token. */
export function bearer(token: string): { headers: Record<string, string> } {
  return { headers: { Authorization: `Bearer ${token}` } };
}
