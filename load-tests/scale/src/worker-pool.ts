import { type ChildProcess, fork } from 'node:child_process';
import * as path from 'node:path';
import {
  type WorkerCollection,
  type WorkerReply,
  type WorkerRequest,
  type WorkerStatus,
} from './worker-protocol';

type Request = WorkerRequest extends infer R
  ? R extends { id: number }
    ? Omit<R, 'id'>
    : never
  : never;

/** One forked replica worker and its request/reply channel. */
class WorkerHandle {
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (reply: WorkerReply) => void; reject: (error: Error) => void }
  >();

  constructor(private readonly child: ChildProcess) {
    child.on('message', (reply: WorkerReply) => {
      const waiter = this.pending.get(reply.id);
      if (waiter === undefined) return;
      this.pending.delete(reply.id);
      if (reply.ok) waiter.resolve(reply);
      else waiter.reject(new Error(`replica worker: ${reply.error}`));
    });
    child.on('exit', (code, signal) => {
      for (const waiter of this.pending.values()) {
        waiter.reject(new Error(`replica worker exited (${signal ?? code})`));
      }
      this.pending.clear();
    });
  }

  request(request: Request): Promise<WorkerReply> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.send({ ...request, id } as WorkerRequest);
    });
  }

  /** Resolves when the process has exited (at once if it has). */
  exited(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => this.child.once('exit', () => resolve()));
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}

/**
 * `SCALE_PROFILE_DIR=<dir>`: every worker writes a V8 CPU profile there when it exits
 * (`--cpu-prof`; README, "Where a replica's CPU goes"). NODE_OPTIONS may not carry `--cpu-prof`.
 */
function profileArgs(): string[] {
  const dir = process.env['SCALE_PROFILE_DIR'];
  return dir === undefined || dir === '' ? [] : ['--cpu-prof', `--cpu-prof-dir=${dir}`];
}

/** Aggregate of every worker's {@link WorkerStatus}. */
export type PoolStatus = WorkerStatus;

/**
 * Simulated replicas spread evenly over a few worker processes (so that both cores work), driven
 * together: every call goes to all workers and their answers are combined.
 */
export class WorkerPool {
  private constructor(
    private readonly workers: WorkerHandle[],
    readonly replicas: number,
  ) {}

  /** Forks `workers` processes and starts `replicas` simulated replicas across them. */
  static async start(options: {
    workers: number;
    replicas: number;
    redisUrl: string;
    keyPrefix: string;
    cacheMaxEntries: number;
    /** Full replicas among them; the rest are wire subscribers. */
    fullReplicas: number;
  }): Promise<WorkerPool> {
    const count = Math.min(options.workers, options.replicas);
    const script = path.join(__dirname, 'replica-worker.js');
    const handles: WorkerHandle[] = [];
    for (let i = 0; i < count; i++) {
      const child = fork(script, [], {
        serialization: 'advanced',
        execArgv: ['--max-old-space-size=8192', ...profileArgs()],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      handles.push(new WorkerHandle(child));
    }
    const pool = new WorkerPool(handles, options.replicas);
    let first = 0;
    await Promise.all(
      handles.map((handle, i) => {
        const replicas =
          Math.floor(options.replicas / count) + (i < options.replicas % count ? 1 : 0);
        const fullReplicas =
          Math.floor(options.fullReplicas / count) + (i < options.fullReplicas % count ? 1 : 0);
        const firstReplica = first;
        first += replicas;
        return handle.request({
          type: 'start',
          redisUrl: options.redisUrl,
          keyPrefix: options.keyPrefix,
          replicas,
          firstReplica,
          cacheMaxEntries: options.cacheMaxEntries,
          fullReplicas: Math.min(fullReplicas, replicas),
        });
      }),
    ).catch((error: unknown) => {
      pool.kill();
      throw error;
    });
    return pool;
  }

  /** Starts counting the revocations whose id begins with `idPrefix`. */
  async cell(idPrefix: string): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.request({ type: 'cell', idPrefix })));
  }

  async status(): Promise<PoolStatus> {
    const replies = await Promise.all(
      this.workers.map((worker) => worker.request({ type: 'status' })),
    );
    return combine(replies.map((reply) => (reply as { status: WorkerStatus }).status));
  }

  async collect(): Promise<WorkerCollection[]> {
    const replies = await Promise.all(
      this.workers.map((worker) => worker.request({ type: 'collect' })),
    );
    return replies.map((reply) => (reply as { collection: WorkerCollection }).collection);
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.workers.map((worker) =>
        Promise.race([
          // Let it exit on its own (a CPU profile is written on exit), then kill what remains.
          worker
            .request({ type: 'stop' })
            .then(() => worker.exited())
            .catch(() => undefined),
          new Promise((resolve) => setTimeout(resolve, 10_000)),
        ]),
      ),
    );
    this.kill();
  }

  kill(): void {
    for (const worker of this.workers) worker.kill();
  }
}

/** Sums counts, takes minima of minima and maxima of maxima. */
export function combine(statuses: readonly WorkerStatus[]): WorkerStatus {
  const sum = (pick: (s: WorkerStatus) => number): number =>
    statuses.reduce((total, s) => total + pick(s), 0);
  return {
    replicas: sum((s) => s.replicas),
    fullReplicas: sum((s) => s.fullReplicas),
    ready: sum((s) => s.ready),
    subscribed: sum((s) => s.subscribed),
    inSync: sum((s) => s.inSync),
    minSeq: Math.min(...statuses.map((s) => s.minSeq)),
    applied: sum((s) => s.applied),
    minApplied: Math.min(...statuses.map((s) => s.minApplied)),
    subscriberCloses: sum((s) => s.subscriberCloses),
    syncErrors: sum((s) => s.syncErrors),
    cpuMs: sum((s) => s.cpuMs),
    maxCacheSize: Math.max(...statuses.map((s) => s.maxCacheSize)),
    eventLoopDelayMaxMs: Math.max(...statuses.map((s) => s.eventLoopDelayMaxMs)),
    eventLoopDelayP99Ms: Math.max(...statuses.map((s) => s.eventLoopDelayP99Ms)),
    heapUsedBytes: sum((s) => s.heapUsedBytes),
  };
}
