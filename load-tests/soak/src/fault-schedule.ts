import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitFor } from '@rescind/testing';
import { type SoakStack } from './soak-stack';

/** One fault injected, with how long the replicas took to be ready again. */
export interface InjectedFault {
  readonly kind: 'pubsub-kill' | 'redis-restart';
  /** Seconds into the run. */
  readonly atSecond: number;
  /** When it began and when every replica was ready again (`performance.now()` ms). */
  readonly startedAtMs: number;
  readonly readyAtMs: number;
  /** Redis down (restart only), ms. */
  readonly downMs: number;
  /** From the fault to every replica ready again, ms; NaN when they were not within the bound. */
  readonly readyAfterMs: number;
}

/** Every replica is ready again within this long after a fault, or the run fails. */
export const RECOVERY_BOUND_MS = 30_000;

/**
 * Injects faults 1 and 3 of the fault suite on a schedule: `CLIENT KILL TYPE pubsub` every
 * `killEverySeconds`, and a crash of Redis (SIGKILL) with a restart from its AOF every
 * `restartEverySeconds` (instead of the kill when both fall due together).
 */
export class FaultSchedule {
  private running = false;
  private loop: Promise<void> | undefined;
  readonly faults: InjectedFault[] = [];

  constructor(
    private readonly stack: SoakStack,
    private readonly killEverySeconds: number,
    private readonly restartEverySeconds: number,
    private readonly log: (line: string) => void,
  ) {}

  /** Starts the schedule; second 0 is now. */
  start(): void {
    this.running = true;
    this.loop = this.run(performance.now());
  }

  /** Stops after the fault in progress, if any, has recovered. */
  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  private async run(originMs: number): Promise<void> {
    const due = (every: number, second: number): boolean => second > 0 && second % every === 0;
    for (let second = 1; this.running; second++) {
      const wait = originMs + second * 1000 - performance.now();
      if (wait > 0) await sleep(wait);
      if (!this.running) break;
      if (due(this.restartEverySeconds, second)) await this.inject('redis-restart', second);
      else if (due(this.killEverySeconds, second)) await this.inject('pubsub-kill', second);
    }
  }

  private async inject(kind: InjectedFault['kind'], atSecond: number): Promise<void> {
    const startedAtMs = performance.now();
    let downMs = 0;
    if (kind === 'pubsub-kill') {
      await this.stack.redis.cli('CLIENT', 'KILL', 'TYPE', 'pubsub');
    } else {
      await this.stack.redis.kill();
      await this.stack.redis.restart();
      downMs = performance.now() - startedAtMs;
    }
    let readyAfterMs = Number.NaN;
    try {
      await waitFor(() => this.stack.allReady(), {
        timeoutMs: RECOVERY_BOUND_MS,
        intervalMs: 20,
        description: 'every replica to be ready again',
      });
      readyAfterMs = performance.now() - startedAtMs;
    } catch {
      // reported as NaN: the run fails
    }
    const fault = {
      kind,
      atSecond,
      startedAtMs,
      readyAtMs: performance.now(),
      downMs,
      readyAfterMs,
    };
    this.faults.push(fault);
    this.log(
      `  t=${atSecond}s ${kind}${kind === 'redis-restart' ? ` (down ${Math.round(downMs)} ms)` : ''}: every replica ready again after ${Math.round(readyAfterMs)} ms`,
    );
  }
}
