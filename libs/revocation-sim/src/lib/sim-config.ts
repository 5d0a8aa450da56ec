import { type Milliseconds } from '@rescind/revocation-core';
import { Prng } from './prng';

/** How one replica of a simulated deployment is configured. */
export interface ReplicaConfig {
  /** Its clock minus the global clock, within ±clockSkewMs/2 so that any two differ by ≤ the skew. */
  readonly clockOffsetMs: Milliseconds;
  /** `REVOCATION_CACHE_MAX`: tiny in some schedules, so that the cache evicts. */
  readonly maxEntries: number;
  /** `FAIL_MODE`. */
  readonly failMode: 'closed' | 'open';
}

/** The deployment and network one schedule runs against, drawn from its seed. */
export interface SimConfig {
  readonly replicas: readonly ReplicaConfig[];
  /** Tolerated clock skew: verifier slack on `iat`, cut-offs and new epochs' not-before. */
  readonly clockSkewMs: Milliseconds;
  /** `ACCESS_TOKEN_TTL`, in whole seconds. */
  readonly accessTokenTtlSeconds: number;
  readonly syncIntervalMs: Milliseconds;
  readonly maxStalenessMs: Milliseconds;
  readonly catchUpPageSize: number;
  readonly snapshotPageSize: number;
  /** Largest one-way latency of a store request or reply (each connection is FIFO). */
  readonly storeLatencyMaxMs: Milliseconds;
  /** Largest delay of a pub/sub message. */
  readonly busDelayMaxMs: Milliseconds;
  /** Share of pub/sub messages lost, duplicated; whether messages may overtake each other. */
  readonly busLoss: number;
  readonly busDuplication: number;
  readonly busReorder: boolean;
  /** Clock offsets of the Redis server and of the worker that tidies. */
  readonly storeClockOffsetMs: Milliseconds;
  readonly workerClockOffsetMs: Milliseconds;
  /** Steps of the generated schedule. */
  readonly steps: number;
}

/**
 * A cache bound no schedule reaches (it makes fewer revocations than this), kept small because
 * lru-cache allocates its arrays for the whole bound up front.
 */
export const LARGE_CACHE = 100;

/** The global clock starts here (a recent instant, so that ids and expiries look real). */
export const EPOCH_START_MS: Milliseconds = 1_780_000_000_000;

/**
 * How long the quiet period after the last fault lasts before liveness is judged: the longest
 * reconnection back-off (1 s), a new data set's not-before (the skew) and the second readiness
 * waits past it (docs/revocation-model.md, "Store loss"), then rounds and staleness.
 */
export function quietPeriodMs(config: SimConfig): Milliseconds {
  return 1000 + config.clockSkewMs + 1000 + config.maxStalenessMs + 4 * config.syncIntervalMs;
}

/**
 * Time before the first step, for the replicas to connect, hydrate, subscribe and catch up: a
 * handful of calls, each at most two latencies, and the first reconnection delay.
 */
export function warmUpMs(config: SimConfig): Milliseconds {
  return 30 + 10 * config.storeLatencyMaxMs;
}

/**
 * Time a synchronisation round may take in this model: every round is a bounded number of store
 * calls (head, a catch-up or snapshot of the few dozen entries a schedule makes, a write-back),
 * each at most two one-way latencies plus the queue ahead of it on its FIFO connection.
 */
export function roundAllowanceMs(config: SimConfig): Milliseconds {
  return 20 * (2 * config.storeLatencyMaxMs + 1);
}

/**
 * The fan-out bound the checker applies to a ready replica: the revocation's message (delay
 * ≤ busDelayMax), or, when it was lost, the next anti-entropy round (≤ one sync interval) and
 * the round it may wait behind (two round allowances).
 */
export function fanOutBoundMs(config: SimConfig): Milliseconds {
  return config.syncIntervalMs + config.busDelayMaxMs + 2 * roundAllowanceMs(config);
}

/**
 * After a failover lost a revocation, the replicas that hold it notice on their next round and
 * write it back through the logged path; the others then learn of it within the fan-out bound.
 */
export function failoverBoundMs(config: SimConfig): Milliseconds {
  return config.syncIntervalMs + roundAllowanceMs(config) + fanOutBoundMs(config);
}

/** Draws the deployment of one schedule from its seed. */
export function drawConfig(seed: number): SimConfig {
  const prng = new Prng(seed ^ 0x5eed);
  const clockSkewMs = prng.pick([100, 250, 500, 1000]);
  const half = Math.floor(clockSkewMs / 2);
  const tiny = prng.chance(0.35);
  const count = prng.between(2, 4);
  const replicas: ReplicaConfig[] = [];
  for (let i = 0; i < count; i++) {
    replicas.push({
      clockOffsetMs: prng.between(-half, half),
      maxEntries: tiny && prng.chance(0.75) ? prng.between(2, 4) : LARGE_CACHE,
      failMode: prng.chance(0.8) ? 'closed' : 'open',
    });
  }
  const syncIntervalMs = prng.pick([100, 250, 500, 500, 1000, 1000]);
  const lossy = prng.chance(0.5);
  return {
    replicas,
    clockSkewMs,
    accessTokenTtlSeconds: prng.pick([2, 3, 5, 8]),
    syncIntervalMs,
    maxStalenessMs: syncIntervalMs * prng.pick([3, 4]),
    catchUpPageSize: prng.pick([1, 2, 3, 1000]),
    snapshotPageSize: prng.pick([1, 2, 1000]),
    storeLatencyMaxMs: prng.pick([0, 1, 2, 5]),
    busDelayMaxMs: prng.pick([0, 2, 10, 30]),
    busLoss: lossy ? prng.pick([0.05, 0.2, 0.5]) : 0,
    busDuplication: prng.chance(0.3) ? prng.pick([0.1, 0.3]) : 0,
    busReorder: prng.chance(0.4),
    storeClockOffsetMs: prng.between(-half, half),
    workerClockOffsetMs: prng.between(-half, half),
    steps: prng.between(20, 50),
  };
}
