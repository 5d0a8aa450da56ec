import { randomBytes } from 'node:crypto';
/** A username and password as the API takes them. */
export interface Credentials {
  readonly username: string;
  readonly password: string;
}

/**
 * What `GET /health/ready` answers (README, "Operations"), read off the wire: test support sees
 * the API as its clients do, not through the module's types.
 */
export type Readiness = Readonly<
  Record<'ready' | 'hydrated' | 'subscribed' | 'caughtUp' | 'storeReachable', boolean> & {
    stalenessMs: number;
  }
>;

/** One HTTP answer with its body read (parsed as JSON when it is JSON). */
export interface ApiResponse<T = unknown> {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  /** The parsed JSON body, or `undefined` when the body is not JSON. */
  readonly json: T | undefined;
}

/** Every request gives up after this long, so that a hung replica fails a test instead of stalling it. */
export const REQUEST_TIMEOUT_MS = 5_000;

let userCounter = 0;

/** Fresh, valid credentials; usernames are unique across the whole run. */
export function newCredentials(tag = 'user'): Credentials {
  userCounter += 1;
  return {
    username: `${tag}_${userCounter}_${randomBytes(3).toString('hex')}`,
    password: 'correct horse battery staple',
  };
}

/** The body as JSON, or `undefined` when it is empty or not JSON. */
export function parseJsonBody<T = unknown>(text: string): T | undefined {
  try {
    return text === '' ? undefined : (JSON.parse(text) as T);
  } catch {
    return undefined;
  }
}

/** Sends a request and reads the whole answer. */
export async function send<T = unknown>(
  url: string,
  init: RequestInit = {},
): Promise<ApiResponse<T>> {
  const response = await fetch(url, {
    ...init,
    signal: init.signal ?? AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, json: parseJsonBody<T>(text) };
}

/** The bearer header for a token. */
export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

/** An error naming the call and the answer it did not expect. */
export function unexpectedAnswer(what: string, answer: ApiResponse): Error {
  return new Error(`${what}: unexpected HTTP ${answer.status}: ${answer.text.slice(0, 300)}`);
}

/** Maps `items` through `task` with at most `concurrency` in flight; results keep input order. */
export async function inBatches<T, R>(
  items: readonly T[],
  concurrency: number,
  task: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, lane));
  return results;
}

/**
 * The sum of the samples of a metric in Prometheus text whose labels contain every `labels`
 * pair.
 *
 * A missing metric is `undefined`, never 0: a metric the replica does not export at all (a typo,
 * a renamed metric, a broken registry) must fail an assertion rather than pass as "nothing
 * happened". The caller decides where absence does mean 0: a labelled counter has no sample for
 * a label set until it is first incremented (prom-client exports none), so `?? 0` is right for,
 * e.g., `rescind_resyncs_total{cause="gap"}`, and wrong for an unlabelled counter or a gauge that
 * is always exported.
 */
export function metricValue(
  metricsText: string,
  name: string,
  labels: Readonly<Record<string, string>> = {},
): number | undefined {
  let total: number | undefined;
  for (const line of metricsText.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (match === null || match[1] !== name) continue;
    const labelText = match[2] ?? '';
    if (!Object.entries(labels).every(([key, value]) => labelText.includes(`${key}="${value}"`)))
      continue;
    total = (total ?? 0) + Number(match[3]);
  }
  return total;
}

/** The claims of a compact JWT, read without verifying anything. */
export function claimsOf(token: string): Record<string, unknown> {
  const payload = token.split('.')[1];
  if (payload === undefined) throw new Error('not a compact JWT');
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
}
