// What the hydration probe process reports to the benchmark.

/** Prefix of the line `hydration-probe.js` prints: its measurements as JSON. */
export const HYDRATION_PROBE_RESULT = 'hydration probe ';

/** What the probe measured. */
export interface HydrationProbeResult {
  readonly entries: number;
  readonly hydrateMs: number;
  /** Heap used with the client connected, before the cache exists. */
  readonly heapBaselineBytes: number;
  /** Heap used by the empty cache (lru-cache preallocates for `maxEntries`). */
  readonly emptyCacheBytes: number;
  /** Heap used by the hydrated cache, empty-cache allocation included. */
  readonly cacheBytes: number;
}
