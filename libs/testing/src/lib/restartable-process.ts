import { type ManagedProcess } from './managed-process';
import { type ProcessExit } from './process-exit';

/**
 * A child process that can be stopped, killed and started again under the same identity
 * (`ApiReplica`, `WorkerProcess`): what they share is here, what "ready" means is theirs.
 */
export abstract class RestartableProcess {
  protected constructor(protected current: ManagedProcess) {}

  /** The current process (replaced by restart()). */
  get process(): ManagedProcess {
    return this.current;
  }

  /** Process id of the current process. */
  get pid(): number {
    return this.current.pid;
  }

  /** Resolves when the current process exits. */
  get exited(): Promise<ProcessExit> {
    return this.current.exited;
  }

  /** Stops with `signal` (SIGKILL after `timeoutMs`); resolves with the exit code. */
  stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000): Promise<number | null> {
    return this.current.stop(signal, timeoutMs);
  }

  /** SIGKILL and wait for exit. */
  kill(): Promise<ProcessExit> {
    return this.current.kill();
  }

  /** Stops the process if running and spawns it again with the same options. */
  protected async respawn(): Promise<void> {
    await this.current.stop();
    this.current = await this.spawnAgain();
  }

  /** Spawns the process anew, as it was first started. */
  protected abstract spawnAgain(): Promise<ManagedProcess>;
}
