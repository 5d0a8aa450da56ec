import { send, waitFor } from '@rescind/testing';
import { setTimeout as sleep } from 'node:timers/promises';
import { historyNow } from './history-clock';
import { type ReadinessEntry, type ReplicaLabel } from './history-entry';
import { type HistoryLog } from './history-log';
import { type ReplicaAddress } from './recording-client';

/** A poll of a frozen replica gives up after this long (and counts as not ready). */
const POLL_TIMEOUT_MS = 2_000;

interface ReplicaState {
  /** The latest answer, and whether it went to the history. */
  last: ReadinessEntry | undefined;
  lastWritten: boolean;
  /** Sent time of the latest ready answer written to the history. */
  readyWrittenAt: number;
  /** Write the next ready answer to a poll sent at or after this (someone awaits it). */
  wantedSince: number | undefined;
}

/**
 * Polls `GET /health/ready` of every replica in a loop and writes to the history every change of
 * state — the last answer before it and the first after it, so a stretch of unreadiness is known
 * to the poll — and the ready answers someone waits for with {@link awaitReady}.
 */
export class ReadinessWatcher {
  private running = false;
  private loops: Promise<void>[] = [];
  private readonly states = new Map<ReplicaLabel, ReplicaState>();

  constructor(
    private readonly replicas: readonly ReplicaAddress[],
    private readonly history: HistoryLog,
    private readonly pollPauseMs = 50,
  ) {
    for (const { label } of replicas) {
      this.states.set(label, {
        last: undefined,
        lastWritten: false,
        readyWrittenAt: -Infinity,
        wantedSince: undefined,
      });
    }
  }

  /** Starts one polling loop per replica. */
  start(): void {
    this.running = true;
    this.loops = this.replicas.map((replica) => this.poll(replica));
  }

  /** Stops polling. */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  /**
   * Waits until every replica given (default: all) has answered ready to a poll sent at or after
   * `since`, and writes those answers to the history. Resolves with the replicas still not ready
   * when `timeoutMs` passed (empty: all ready).
   */
  async awaitReady(
    since: number,
    timeoutMs: number,
    labels: readonly ReplicaLabel[] = this.replicas.map((replica) => replica.label),
  ): Promise<ReplicaLabel[]> {
    const states = labels.map((label) => this.state(label));
    for (const state of states) {
      if (state.readyWrittenAt < since) state.wantedSince = since;
    }
    const notReady = (): ReplicaLabel[] =>
      labels.filter((_, index) => (states[index] as ReplicaState).readyWrittenAt < since);
    try {
      await waitFor(() => notReady().length === 0, {
        timeoutMs,
        intervalMs: 10,
        description: 'every replica to answer ready',
      });
    } catch {
      // The caller reports which replicas were not ready.
    }
    for (const state of states) state.wantedSince = undefined;
    return notReady();
  }

  private state(label: ReplicaLabel): ReplicaState {
    const state = this.states.get(label);
    if (state === undefined) throw new Error(`no replica ${label}`);
    return state;
  }

  private async poll({ label, url }: ReplicaAddress): Promise<void> {
    const state = this.state(label);
    while (this.running) {
      const sentAt = historyNow();
      let ready = false;
      try {
        ready =
          (await send(`${url}/health/ready`, { signal: AbortSignal.timeout(POLL_TIMEOUT_MS) }))
            .status === 200;
      } catch {
        // No answer: not ready.
      }
      const answer: ReadinessEntry = {
        type: 'ready',
        replica: label,
        ready,
        sentAt,
        doneAt: historyNow(),
      };
      const changed = state.last !== undefined && state.last.ready !== ready;
      if (changed && !state.lastWritten && state.last !== undefined)
        this.history.append(state.last);
      const wanted = ready && state.wantedSince !== undefined && sentAt >= state.wantedSince;
      state.lastWritten = changed || wanted || state.last === undefined;
      if (state.lastWritten) this.history.append(answer);
      if (ready && state.lastWritten) state.readyWrittenAt = sentAt;
      state.last = answer;
      await sleep(this.pollPauseMs);
    }
  }
}
