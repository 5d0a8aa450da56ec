import { monitorEventLoopDelay } from 'node:perf_hooks';
import { type Revocation } from '@rescind/revocation-core';
import { type RedisTopology } from '@rescind/revocation-redis';
import { LatencyHistogram } from './latency-histogram';
import { SimulatedReplica } from './simulated-replica';
import {
  type WorkerCollection,
  type WorkerReply,
  type WorkerRequest,
  type WorkerStatus,
} from './worker-protocol';

/**
 * A worker process of the scale simulation: runs many {@link SimulatedReplica}s and records, for
 * the revocations of the current cell, how long after their creation each replica applied them.
 * Driven by the parent over IPC (see worker-protocol.ts).
 */
class ReplicaWorker {
  private replicas: SimulatedReplica[] = [];
  /** Revocations of the current cell applied, per replica. */
  private applied: number[] = [];
  private idPrefix = '\u0000';
  private histogram = new LatencyHistogram();
  private cpuAtCell = process.cpuUsage();
  private readonly loopDelay = monitorEventLoopDelay({ resolution: 5 });

  constructor() {
    this.loopDelay.enable();
  }

  start(request: Extract<WorkerRequest, { type: 'start' }>): void {
    const topology: RedisTopology = { kind: 'standalone', url: request.redisUrl };
    for (let i = 0; i < request.replicas; i++) {
      const index = i;
      const replica = new SimulatedReplica(
        topology,
        request.keyPrefix,
        `scale-${request.firstReplica + i}`,
        request.cacheMaxEntries,
        { onApplied: (revocation) => this.onApplied(index, revocation) },
      );
      this.replicas.push(replica);
      this.applied.push(0);
    }
    for (const replica of this.replicas) replica.start();
  }

  private onApplied(replica: number, revocation: Revocation): void {
    if (!revocation.id.startsWith(this.idPrefix)) return;
    this.applied[replica] = (this.applied[replica] as number) + 1;
    // createdAtMs is whole milliseconds (floored): the latency reads up to 1 ms high.
    this.histogram.record(performance.timeOrigin + performance.now() - revocation.createdAtMs);
  }

  cell(idPrefix: string): void {
    this.idPrefix = idPrefix;
    this.applied = this.applied.map(() => 0);
    this.histogram = new LatencyHistogram();
    this.cpuAtCell = process.cpuUsage();
    this.loopDelay.reset();
  }

  status(): WorkerStatus {
    const now = Date.now();
    let ready = 0;
    let inSync = 0;
    let minSeq = Number.POSITIVE_INFINITY;
    let subscriberCloses = 0;
    let syncErrors = 0;
    let maxCacheSize = 0;
    for (const replica of this.replicas) {
      const state = replica.sync.state;
      if (replica.sync.isReady(now)) ready++;
      if (state.subscribed && state.caughtUp && state.position !== null) inSync++;
      minSeq = Math.min(minSeq, state.position?.seq ?? -1);
      subscriberCloses += replica.subscriberCloses;
      syncErrors += replica.syncErrors;
      maxCacheSize = Math.max(maxCacheSize, replica.cache.size);
    }
    const cpu = process.cpuUsage(this.cpuAtCell);
    return {
      replicas: this.replicas.length,
      ready,
      inSync,
      minSeq: Number.isFinite(minSeq) ? minSeq : -1,
      applied: this.applied.reduce((a, b) => a + b, 0),
      minApplied: this.applied.length === 0 ? 0 : Math.min(...this.applied),
      subscriberCloses,
      syncErrors,
      cpuMs: (cpu.user + cpu.system) / 1000,
      maxCacheSize,
      eventLoopDelayMaxMs: this.loopDelay.max / 1e6,
      eventLoopDelayP99Ms: this.loopDelay.percentile(99) / 1e6,
      heapUsedBytes: process.memoryUsage().heapUsed,
    };
  }

  collect(): WorkerCollection {
    return { histogram: this.histogram.snapshot(), status: this.status() };
  }

  async stop(): Promise<void> {
    await Promise.all(this.replicas.map((replica) => replica.stop()));
    this.replicas = [];
  }
}

const worker = new ReplicaWorker();

function reply(message: WorkerReply): void {
  process.send?.(message);
}

process.on('message', (request: WorkerRequest) => {
  void (async () => {
    try {
      switch (request.type) {
        case 'start':
          worker.start(request);
          return reply({ id: request.id, ok: true });
        case 'cell':
          worker.cell(request.idPrefix);
          return reply({ id: request.id, ok: true });
        case 'status':
          return reply({ id: request.id, ok: true, status: worker.status() });
        case 'collect':
          return reply({ id: request.id, ok: true, collection: worker.collect() });
        case 'stop':
          await worker.stop();
          reply({ id: request.id, ok: true });
          return process.disconnect();
      }
    } catch (error) {
      reply({ id: request.id, ok: false, error: String(error) });
    }
  })();
});

// The parent going away (a crash, Ctrl-C) must not leave replicas connected.
process.on('disconnect', () => process.exit(0));
