import autocannon from 'autocannon';
import { SampleBuffer, percentileOfSorted } from './stats';

/** Options of {@link runHttpLoad}. */
export interface HttpLoadOptions {
  url: string;
  /**
   * Sent as `Authorization: Bearer <token>`, connection i sending `tokens[i mod n]`: distinct
   * clients hold distinct tokens, as they do in production.
   */
  tokens?: readonly string[];
  connections: number;
  durationSeconds: number;
  /** Requests per second across all connections; unlimited when absent. */
  overallRate?: number;
  /** Record every response time (sub-millisecond p50/p99). @default true */
  recordLatency?: boolean;
  /** Ends the run early; the result covers what ran. */
  signal?: AbortSignal;
}

/** What one load run measured from the client side. */
export interface HttpLoadResult {
  /** Responses received. */
  readonly requests: number;
  readonly non2xx: number;
  /** Connection errors and timeouts. */
  readonly errors: number;
  readonly durationSeconds: number;
  readonly requestsPerSecond: number;
  /** Response-time percentiles in ms, from every response (autocannon's own are whole ms). */
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/** Runs autocannon in this process against one URL. */
export async function runHttpLoad(options: HttpLoadOptions): Promise<HttpLoadResult> {
  const latencies = new SampleBuffer();
  const tokens = options.tokens ?? [];
  let connection = 0;
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.url,
        connections: options.connections,
        duration: options.durationSeconds,
        // autocannon notices the end of `duration` only at its next sample: sample every 100 ms
        // so that a 0.5 s warm-up lasts 0.5 s, not 1 s.
        sampleInt: 100,
        ...(options.overallRate === undefined ? {} : { overallRate: options.overallRate }),
        ...(tokens.length === 0
          ? {}
          : {
              setupClient: (client: autocannon.Client) =>
                client.setHeaders({
                  authorization: `Bearer ${tokens[connection++ % tokens.length]}`,
                }),
            }),
      },
      (error: unknown, done: autocannon.Result) => (error ? reject(error) : resolve(done)),
    );
    options.signal?.addEventListener('abort', () => instance.stop(), { once: true });
    if (options.recordLatency !== false) {
      instance.on('response', (_client, _status, _bytes, responseTimeMs) =>
        latencies.push(responseTimeMs),
      );
    }
  });
  const sorted = latencies.sorted();
  return {
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
    durationSeconds: result.duration,
    requestsPerSecond: result.requests.total / result.duration,
    p50Ms: sorted.length > 0 ? percentileOfSorted(sorted, 50) : result.latency.p50,
    p99Ms: sorted.length > 0 ? percentileOfSorted(sorted, 99) : result.latency.p99,
  };
}
