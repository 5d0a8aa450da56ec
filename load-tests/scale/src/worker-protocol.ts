import { type HistogramSnapshot } from './latency-histogram';

/** Messages from the parent to a replica worker (over the `fork` IPC channel). */
export type WorkerRequest =
  | {
      readonly type: 'start';
      readonly id: number;
      readonly redisUrl: string;
      readonly keyPrefix: string;
      /** Simulated replicas this worker runs. */
      readonly replicas: number;
      /** First replica number of this worker, for connection names. */
      readonly firstReplica: number;
      readonly cacheMaxEntries: number;
      /**
       * How many of them are full replicas (simulated-replica.ts); the rest are wire subscribers
       * (wire-subscriber.ts).
       */
      readonly fullReplicas: number;
    }
  /** Start counting revocations whose id starts with `idPrefix` (one matrix cell or storm). */
  | { readonly type: 'cell'; readonly id: number; readonly idPrefix: string }
  | { readonly type: 'status'; readonly id: number }
  | { readonly type: 'collect'; readonly id: number }
  | { readonly type: 'stop'; readonly id: number };

/** The state of every replica of a worker, summed or reduced. */
export interface WorkerStatus {
  readonly replicas: number;
  /** Of them, full replicas (the rest are wire subscribers). */
  readonly fullReplicas: number;
  /** Replicas the synchroniser reports ready (`isReady`), and wire subscribers subscribed. */
  readonly ready: number;
  /** Replicas (and wire subscribers) whose subscription is live, caught up or not. */
  readonly subscribed: number;
  /** Replicas subscribed and caught up since their latest subscription (wire: subscribed). */
  readonly inSync: number;
  /** Lowest applied log position over the replicas (-1 before hydration). */
  readonly minSeq: number;
  /** Revocations of the current cell applied, summed over replicas. */
  readonly applied: number;
  /** Lowest count of the current cell's revocations applied by one replica. */
  readonly minApplied: number;
  /** Subscriber connections that closed (killed by us, or by Redis for their buffer), wire too. */
  readonly subscriberCloses: number;
  /** Synchronisation rounds that failed. */
  readonly syncErrors: number;
  /** CPU this worker used since the cell began, in ms (user + system). */
  readonly cpuMs: number;
  /** Entries held by the largest cache. */
  readonly maxCacheSize: number;
  /** Largest event-loop delay of a worker since the cell began, ms: the simulator's own lag. */
  readonly eventLoopDelayMaxMs: number;
  /** Its 99th percentile, ms. */
  readonly eventLoopDelayP99Ms: number;
  /** Heap used by this worker, in bytes. */
  readonly heapUsedBytes: number;
}

/** Latencies of the current cell: revocation created → applied on a replica. */
export interface WorkerCollection {
  /** Over the full replicas, and over the wire subscribers (together: every replica). */
  readonly fullHistogram: HistogramSnapshot;
  readonly wireHistogram: HistogramSnapshot;
  readonly status: WorkerStatus;
}

export type WorkerReply =
  | { readonly id: number; readonly ok: true; readonly status?: WorkerStatus }
  | { readonly id: number; readonly ok: true; readonly collection: WorkerCollection }
  | { readonly id: number; readonly ok: false; readonly error: string };
