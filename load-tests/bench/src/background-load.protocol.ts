// What the benchmark and its background-load process exchange.

/** What the benchmark passes to `background-load.js` as its one argument (JSON). */
export interface BackgroundLoadSpec {
  readonly urls: readonly string[];
  readonly token: string;
  /** Requests per second over all URLs together. */
  readonly overallRate: number;
  readonly connectionsPerUrl: number;
  readonly durationSeconds: number;
}

/** Printed once the load runs; the benchmark waits for it. */
export const BACKGROUND_LOAD_STARTED = 'background load started';
/** Prefix of the final line: achieved totals as JSON. */
export const BACKGROUND_LOAD_RESULT = 'background load result ';
