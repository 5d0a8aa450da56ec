import { monitorEventLoopDelay } from 'node:perf_hooks';
import { type Revocation } from '@rescind/revocation-core';
import { RedisKeys, type RedisTopology } from '@rescind/revocation-redis';
import { LatencyHistogram } from './latency-histogram';
import { SimulatedReplica } from './simulated-replica';
import { WireSubscriber } from './wire-subscriber';
import {
  type WorkerCollection,
  type WorkerReply,
  type WorkerRequest,
  type WorkerStatus,
} from './worker-protocol';

/**
 * A worker process of the scale simulation: runs many {@link SimulatedReplica}s (and, when asked,
 * light {@link WireSubscriber}s in place of some) and records, for the revocations of the current
 * cell, how long after their creation each applied (or received) them. Driven by the parent over
 * IPC (see worker-protocol.ts).
 */
class ReplicaWorker {
  private replicas: SimulatedReplica[] = [];
  private wires: WireSubscriber[] = [];
  /** Revocations of the current cell applied, per replica, then per wire subscriber. */
  private applied: number[] = [];
  private idPrefix = '\u0000';
  private fullHistogram = new LatencyHistogram();
  private wireHistogram = new LatencyHistogram();
  private cpuAtCell = process.cpuUsage();
  private readonly loopDelay = monitorEventLoopDelay({ resolution: 5 });

  constructor() {
    this.loopDelay.enable();
  }

  start(request: Extract<WorkerRequest, { type: 'start' }>): void {
    const topology: RedisTopology = { kind: 'standalone', url: request.redisUrl };
    const url = new URL(request.redisUrl);
    const channel = new RedisKeys(request.keyPrefix).channel;
    for (let i = 0; i < request.replicas; i++) {
      const index = i;
      this.applied.push(0);
      if (i >= request.fullReplicas) {
        const wire = new WireSubscriber(url.hostname, Number(url.port), channel, {
          onMessage: (id, createdAtMs) => this.onReceived(index, id, createdAtMs),
        });
        this.wires.push(wire);
        continue;
      }
      const replica = new SimulatedReplica(
        topology,
        request.keyPrefix,
        `scale-${request.firstReplica + i}`,
        request.cacheMaxEntries,
        { onApplied: (revocation) => this.onApplied(index, revocation) },
      );
      this.replicas.push(replica);
    }
    for (const replica of this.replicas) replica.start();
    for (const wire of this.wires) wire.start();
  }

  private onApplied(replica: number, revocation: Revocation): void {
    this.record(replica, revocation.id, revocation.createdAtMs, this.fullHistogram);
  }

  private onReceived(index: number, id: string, createdAtMs: number): void {
    this.record(index, id, createdAtMs, this.wireHistogram);
  }

  /** Counts a revocation of the current cell for `index` and records its latency. */
  private record(index: number, id: string, createdAtMs: number, into: LatencyHistogram): void {
    if (!id.startsWith(this.idPrefix)) return;
    this.applied[index] = (this.applied[index] as number) + 1;
    // createdAtMs is whole milliseconds (floored): the latency reads up to 1 ms high.
    into.record(performance.timeOrigin + performance.now() - createdAtMs);
  }

  cell(idPrefix: string): void {
    this.idPrefix = idPrefix;
    this.applied = this.applied.map(() => 0);
    this.fullHistogram = new LatencyHistogram();
    this.wireHistogram = new LatencyHistogram();
    this.cpuAtCell = process.cpuUsage();
    this.loopDelay.reset();
  }

  status(): WorkerStatus {
    const now = Date.now();
    let ready = 0;
    let subscribed = 0;
    let inSync = 0;
    let minSeq = Number.POSITIVE_INFINITY;
    let subscriberCloses = 0;
    let syncErrors = 0;
    let maxCacheSize = 0;
    for (const replica of this.replicas) {
      const state = replica.sync.state;
      if (replica.sync.isReady(now)) ready++;
      if (state.subscribed) subscribed++;
      if (state.subscribed && state.caughtUp && state.position !== null) inSync++;
      minSeq = Math.min(minSeq, state.position?.seq ?? -1);
      subscriberCloses += replica.subscriberCloses;
      syncErrors += replica.syncErrors;
      maxCacheSize = Math.max(maxCacheSize, replica.cache.size);
    }
    for (const wire of this.wires) {
      if (wire.subscribed) {
        ready++;
        subscribed++;
        inSync++;
      }
      subscriberCloses += wire.closes;
    }
    const cpu = process.cpuUsage(this.cpuAtCell);
    return {
      replicas: this.replicas.length + this.wires.length,
      fullReplicas: this.replicas.length,
      ready,
      subscribed,
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
    return {
      fullHistogram: this.fullHistogram.snapshot(),
      wireHistogram: this.wireHistogram.snapshot(),
      status: this.status(),
    };
  }

  async stop(): Promise<void> {
    await Promise.all([
      ...this.replicas.map((replica) => replica.stop()),
      ...this.wires.map((wire) => wire.stop()),
    ]);
    this.replicas = [];
    this.wires = [];
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
