import { setTimeout as sleep } from 'node:timers/promises';
import { type FaultInjector, type FaultPlan } from './fault-injector';
import { type FaultKind, targetsOneReplica } from './fault-kind';
import { historyNow } from './history-clock';
import { type FaultEntry, type ReplicaLabel } from './history-entry';
import { type HistoryLog } from './history-log';
import { type ReadinessWatcher } from './readiness-watcher';
import { type SeededRandom } from './seeded-random';

/** How long each kind of fault is held, ms (drawn uniformly in the range). */
const HOLD_MS: Readonly<Record<FaultKind, readonly [number, number]>> = {
  'pause-replica': [500, 7_000],
  'kill-replica': [200, 3_000],
  'kill-worker': [200, 3_000],
  'redis-kill': [100, 2_000],
  'redis-wipe': [100, 2_000],
  'pubsub-kill': [0, 0],
  // The cut itself waits for Redis to drop the subscriber; this is the time frozen after it.
  'output-buffer-cut': [0, 1_000],
  'partition-reset': [500, 7_000],
  'partition-blackhole': [500, 7_000],
};
/** Healthy time between the recovery from one fault and the next fault, ms. */
const BETWEEN_FAULTS_MS: readonly [number, number] = [1_000, 4_000];
/** Every replica must be ready again this long after a heal, or the run fails for liveness. */
export const RECOVERY_TIMEOUT_MS = 60_000;

/** Options of {@link Nemesis}. */
export interface NemesisOptions {
  readonly kinds: readonly FaultKind[];
  readonly replicas: readonly ReplicaLabel[];
  readonly random: SeededRandom;
  readonly injector: FaultInjector;
  readonly watcher: ReadinessWatcher;
  readonly history: HistoryLog;
  readonly log: (line: string) => void;
}

/**
 * Injects one fault at a time, chosen by its seeded stream: the kinds come in shuffled rounds
 * (each kind once per round, so a short run still sees every kind), the target replica and the
 * durations are drawn. Every fault is healed, and every replica observed ready again, before
 * the seeded pause that precedes the next one.
 */
export class Nemesis {
  private stopping = false;
  private round: FaultKind[] = [];
  private nextId = 1;
  private failed = false;

  constructor(private readonly options: NemesisOptions) {}

  /** False once some replica was not ready again in time after a heal. */
  get healthy(): boolean {
    return !this.failed;
  }

  /** Injects faults until `until` (history clock) or {@link stop}; the last one is always healed. */
  async run(until: number): Promise<void> {
    const { random } = this.options;
    while (!this.stopping && !this.failed) {
      const pauseMs = random.int(...BETWEEN_FAULTS_MS);
      const plan = this.draw();
      // The pause is the schedule (healthy time between faults), not a wait for a condition.
      await sleep(pauseMs);
      if (this.stopping || historyNow() + plan.holdMs > until) return;
      await this.perform(plan);
    }
  }

  /** Ends the run after the fault in progress has been healed. */
  stop(): void {
    this.stopping = true;
  }

  private draw(): FaultPlan {
    const { random, kinds, replicas } = this.options;
    if (this.round.length === 0) this.round = random.shuffle(kinds);
    const kind = this.round.shift() as FaultKind;
    const replica = random.int(0, replicas.length - 1);
    const other = (replica + random.int(1, Math.max(1, replicas.length - 1))) % replicas.length;
    const [least, most] = HOLD_MS[kind];
    return {
      id: this.nextId++,
      kind,
      replica,
      other,
      holdMs: random.int(least, most),
      kills: random.int(1, 3),
      killSpacingMs: random.int(0, 400),
    };
  }

  private async perform(plan: FaultPlan): Promise<void> {
    const { injector, watcher, history, log, replicas } = this.options;
    const affected = this.affected(plan);
    const record = (phase: FaultEntry['phase'], at: number, extra: Partial<FaultEntry>): void =>
      history.append({
        type: 'fault',
        id: plan.id,
        kind: plan.kind,
        phase,
        at,
        replicas: affected,
        ...extra,
      });
    record('start', historyNow(), {});
    let injected: string;
    try {
      injected = await injector.inject(plan);
    } catch (error) {
      injected = `injection failed: ${(error as Error).message}`;
    }
    // Holding the fault is the schedule too.
    await sleep(plan.holdMs);
    let healed: string;
    try {
      healed = await injector.heal(plan);
    } catch (error) {
      healed = `heal failed: ${(error as Error).message}`;
    }
    const healedAt = historyNow();
    record('healed', healedAt, { detail: `${injected}; held ${plan.holdMs} ms; ${healed}` });
    const notReady = await watcher.awaitReady(healedAt, RECOVERY_TIMEOUT_MS, replicas);
    const recoveredAt = historyNow();
    const ok = notReady.length === 0;
    const detail = ok
      ? `every replica ready ${Math.round(recoveredAt - healedAt)} ms after the heal`
      : `${notReady.join(', ')} not ready ${RECOVERY_TIMEOUT_MS} ms after the heal`;
    record('recovered', recoveredAt, { ok, detail });
    if (!ok) this.failed = true;
    log(
      `fault #${plan.id} ${plan.kind}: ${injected}; held ${plan.holdMs} ms; ${healed}; ${detail}`,
    );
  }

  private affected(plan: FaultPlan): ReplicaLabel[] {
    const { replicas } = this.options;
    if (plan.kind === 'kill-worker') return [];
    if (targetsOneReplica(plan.kind))
      return [replicas[plan.replica % replicas.length] as ReplicaLabel];
    return [...replicas];
  }
}
