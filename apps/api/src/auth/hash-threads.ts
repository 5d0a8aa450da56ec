import { Worker } from 'node:worker_threads';
import { type Options } from '@node-rs/argon2';

/**
 * Niceness of the hashing threads on Linux: a low priority, so that the scheduler runs the event
 * loop, which serves reads, before a password hash: against it a thread of niceness 10 weighs
 * about a tenth (docs/design.md, "Login bulkhead"). Not the lowest (19, a sixty-eighth): on a
 * machine whose cores are busy with other work, logins would then all but stop. Raising one's
 * own niceness needs no privilege.
 */
export const HASH_THREAD_NICENESS = 10;

/** One job for a hashing thread. */
type Job =
  | { readonly kind: 'hash'; readonly password: string; readonly options: Options }
  | { readonly kind: 'verify'; readonly password: string; readonly hash: string };

type Reply = { id: number; value: string | boolean } | { id: number; error: string };

interface Pending {
  resolve: (value: string | boolean) => void;
  reject: (error: Error) => void;
}

/**
 * The thread's code, plain CommonJS (the API runs from `dist/` and its specs from TypeScript
 * sources, so no file path fits both): lowers its own priority (Linux: `setpriority` with pid 0
 * names the calling thread; elsewhere it would renice the whole process, so it is not done),
 * then hashes synchronously, one job at a time.
 */
const THREAD_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const argon2 = require(workerData.argon2);
if (process.platform === 'linux') {
  try { require('node:os').setPriority(workerData.niceness); } catch {}
}
parentPort.on('message', (job) => {
  try {
    const value = job.kind === 'hash'
      ? argon2.hashSync(job.password, job.options)
      : argon2.verifySync(job.hash, job.password);
    parentPort.postMessage({ id: job.id, value });
  } catch (error) {
    parentPort.postMessage({ id: job.id, error: String((error && error.message) || error) });
  }
});
`;

/** One hashing thread: runs jobs in order; a thread that dies fails its jobs and is replaced. */
class HashThread {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;

  /** Jobs sent and not answered. */
  get load(): number {
    return this.pending.size;
  }

  run(job: Job): Promise<string | boolean> {
    const worker = this.started();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ ...job, id });
    });
  }

  async stop(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    if (worker !== undefined) await worker.terminate();
  }

  private started(): Worker {
    if (this.worker !== undefined) return this.worker;
    const worker = new Worker(THREAD_SOURCE, {
      eval: true,
      workerData: { argon2: require.resolve('@node-rs/argon2'), niceness: HASH_THREAD_NICENESS },
    });
    // Idle hashing threads keep no process alive.
    worker.unref();
    worker.on('message', (reply: Reply) => {
      const pending = this.pending.get(reply.id);
      if (pending === undefined) return;
      this.pending.delete(reply.id);
      if ('error' in reply) pending.reject(new Error(reply.error));
      else pending.resolve(reply.value);
    });
    const fail = (error: Error): void => {
      if (this.worker === worker) this.worker = undefined;
      for (const pending of this.pending.values()) pending.reject(error);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`hashing thread exited (code ${code})`)));
    this.worker = worker;
    return worker;
  }
}

/**
 * `size` threads of low priority that run Argon2id synchronously, each job on the least
 * loaded thread: the work of the login bulkhead's slots, kept off libuv's pool so that it can be
 * given a lower priority than the event loop (docs/design.md, "Login bulkhead").
 */
export class HashThreads {
  private readonly threads: HashThread[];

  constructor(size: number) {
    this.threads = Array.from({ length: Math.max(1, size) }, () => new HashThread());
  }

  /** Argon2 `hashSync(password, options)` on a hashing thread. */
  async hash(password: string, options: Options): Promise<string> {
    return String(await this.leastLoaded().run({ kind: 'hash', password, options }));
  }

  /** Argon2 `verifySync(hash, password)` on a hashing thread; rejects when `hash` is unparseable. */
  async verify(hash: string, password: string): Promise<boolean> {
    return (await this.leastLoaded().run({ kind: 'verify', password, hash })) === true;
  }

  /** Stops every thread (jobs in flight reject). */
  async stop(): Promise<void> {
    await Promise.all(this.threads.map((thread) => thread.stop()));
  }

  private leastLoaded(): HashThread {
    return this.threads.reduce((best, thread) => (thread.load < best.load ? thread : best));
  }
}
