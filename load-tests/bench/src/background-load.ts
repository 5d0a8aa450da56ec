import {
  BACKGROUND_LOAD_RESULT,
  BACKGROUND_LOAD_STARTED,
  type BackgroundLoadSpec,
} from './background-load.protocol';
import { runHttpLoad } from './http-load';

// A steady `GET /me` load at a fixed rate, in its own process so that it does not share an event
// loop with the fan-out timer. Runs until its duration ends or SIGTERM, then prints its totals.
async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? '{}') as BackgroundLoadSpec;
  const stop = new AbortController();
  process.once('SIGTERM', () => stop.abort());
  process.once('SIGINT', () => stop.abort());
  const started = Promise.all(
    spec.urls.map((url) =>
      runHttpLoad({
        url: `${url}/me`,
        tokens: [spec.token],
        connections: spec.connectionsPerUrl,
        durationSeconds: spec.durationSeconds,
        overallRate: Math.max(1, Math.round(spec.overallRate / spec.urls.length)),
        recordLatency: true,
        signal: stop.signal,
      }),
    ),
  );
  console.log(BACKGROUND_LOAD_STARTED);
  const results = await started;
  console.log(
    BACKGROUND_LOAD_RESULT +
      JSON.stringify({
        requestsPerSecond: results.reduce((sum, r) => sum + r.requestsPerSecond, 0),
        failures: results.reduce((sum, r) => sum + r.non2xx + r.errors, 0),
        p99Ms: Math.max(...results.map((r) => r.p99Ms)),
      }),
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
