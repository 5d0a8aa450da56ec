import { ManagedProcess } from './managed-process';
import { appEntry } from './repo-root';
import { RestartableProcess } from './restartable-process';

/** The line the worker prints once it is consuming jobs. */
export const WORKER_READY_PATTERN = /worker ready/i;

/** Options for {@link WorkerProcess.start}. */
export interface WorkerProcessOptions {
  /** Output label. @default 'worker' */
  name?: string;
  /** Further environment (`REDIS_URL`, `KEY_PREFIX`, …), over the inherited one. */
  env?: Record<string, string | undefined>;
  /** Echo output prefixed with `[name]`. @default false */
  echo?: boolean;
  /** Own process group. @default false */
  detached?: boolean;
  /** Script to run. @default `<repo>/dist/apps/worker/src/main.js` */
  entry?: string;
  /** How long start() waits for the ready line. @default 30000 */
  readyTimeoutMs?: number;
}

/** The worker process (`dist/apps/worker/src/main.js`). */
export class WorkerProcess extends RestartableProcess {
  private constructor(
    private readonly options: WorkerProcessOptions,
    current: ManagedProcess,
  ) {
    super(current);
  }

  /** Spawns the worker and waits for its ready line; kills it if that never comes. */
  static async start(options: WorkerProcessOptions = {}): Promise<WorkerProcess> {
    const worker = await WorkerProcess.spawn(options);
    try {
      await worker.ready(options.readyTimeoutMs);
    } catch (error) {
      await worker.kill();
      throw error;
    }
    return worker;
  }

  /** Spawns the worker without waiting; see {@link WorkerProcess.ready}. */
  static async spawn(options: WorkerProcessOptions = {}): Promise<WorkerProcess> {
    return new WorkerProcess(options, await spawnWorker(options));
  }

  /** Output label. */
  get name(): string {
    return this.current.name;
  }

  /** Waits for the ready line; fails at once if the process exits. */
  async ready(timeoutMs = this.options.readyTimeoutMs ?? 30_000): Promise<void> {
    await this.current.waitForLine(WORKER_READY_PATTERN, timeoutMs);
  }

  /** Stops the worker if running, spawns it again and waits for its ready line. */
  async restart(): Promise<void> {
    await this.respawn();
    await this.ready();
  }

  protected spawnAgain(): Promise<ManagedProcess> {
    return spawnWorker(this.options);
  }
}

function spawnWorker(options: WorkerProcessOptions): Promise<ManagedProcess> {
  return ManagedProcess.spawnNode(options.entry ?? appEntry('worker'), {
    name: options.name ?? 'worker',
    env: options.env,
    echo: options.echo,
    detached: options.detached,
  });
}
