import { metricValue, send } from '@rescind/testing';
import { setTimeout as sleep } from 'node:timers/promises';
import { checkHistory, type CheckResult } from './checker';
import { ClientLane } from './client-lane';
import { FaultInjector } from './fault-injector';
import { type FaultKind } from './fault-kind';
import { historyNow } from './history-clock';
import { readHistory } from './history-file';
import { HistoryLog } from './history-log';
import { Nemesis, RECOVERY_TIMEOUT_MS } from './nemesis';
import { DEFAULT_CACHE_MAX, NemesisStack } from './nemesis-stack';
import { OperationPlanner } from './operation-planner';
import { Population } from './population';
import { ReadinessWatcher } from './readiness-watcher';
import { RecordingClient } from './recording-client';
import { SeededRandom } from './seeded-random';

/** Options of one run. */
export interface NemesisRunOptions {
  readonly seed: number;
  /** How long clients and nemesis run (start-up, recovery and the check come on top). */
  readonly minutes: number;
  /** API replicas (3 to 5). */
  readonly replicas: number;
  /** Concurrent client lanes. */
  readonly lanes: number;
  /** The faults the nemesis chooses from. */
  readonly faultKinds: readonly FaultKind[];
  /** Replicas started with a tiny `REVOCATION_CACHE_MAX` (2 to 8, drawn), so that they overflow. */
  readonly tinyCacheReplicas: number;
  /** Where the history goes. */
  readonly historyPath: string;
  /** The fan-out bound judged, ms. */
  readonly fanOutBoundMs: number;
  /** Longest pause of a lane between two operations, ms. */
  readonly maxThinkMs: number;
  /** The build to run. @default `<repo>/dist` */
  readonly distDir?: string;
  readonly echo?: boolean;
  /** Progress lines. */
  readonly log?: (line: string) => void;
}

/** What one replica's `/metrics` said at the end. */
export interface ReplicaFigures {
  readonly label: string;
  readonly cacheMax: number;
  readonly cacheEntries: number | undefined;
  readonly evictions: number | undefined;
  readonly overflowLookups: number | undefined;
}

/** A finished run: the checker's verdict on its history, and figures of the replicas. */
export interface NemesisRunOutcome {
  readonly result: CheckResult;
  readonly historyPath: string;
  readonly replicas: readonly ReplicaFigures[];
  /** From the first process started to the check done. */
  readonly wallMs: number;
}

const PROGRESS_MS = 30_000;

/**
 * One whole run: starts the stack, runs the client lanes and the nemesis for the given time,
 * heals everything, waits for every replica to be ready again (liveness), stops the stack, then
 * reads the history back and checks it.
 */
export async function runNemesis(options: NemesisRunOptions): Promise<NemesisRunOutcome> {
  const log = options.log ?? ((): void => undefined);
  const began = historyNow();
  const random = new SeededRandom(options.seed);
  const cacheMax = tinyCaches(random.fork('caches'), options.replicas, options.tinyCacheReplicas);
  const history = HistoryLog.open(options.historyPath);
  let stack: NemesisStack | undefined;
  try {
    stack = await NemesisStack.start({
      cacheMax,
      seed: options.seed,
      distDir: options.distDir,
      echo: options.echo,
    });
    const labels = stack.replicas.map((replica) => replica.label);
    history.append({
      type: 'run',
      seed: options.seed,
      startedAt: historyNow(),
      replicas: stack.replicas.map(({ label }, index) => ({
        label,
        cacheMax: cacheMax[index] as number,
      })),
      lanes: options.lanes,
      faultKinds: options.faultKinds,
      fanOutBoundMs: options.fanOutBoundMs,
    });
    log(
      `stack ready in ${Math.round(historyNow() - began)} ms: replicas ${stack.replicas
        .map((replica) => `${replica.label} (cache ${replica.cacheMax.toLocaleString('en-US')})`)
        .join(', ')}, history ${options.historyPath}`,
    );
    const watcher = new ReadinessWatcher(stack.replicas, history);
    const client = new RecordingClient(stack.replicas, history, stack.adminKey);
    const population = new Population(`nem${options.seed}_${began.toString(36).slice(-5)}`);
    const lanes = Array.from(
      { length: options.lanes },
      (_, lane) =>
        new ClientLane(
          lane,
          new OperationPlanner(
            random.fork(`lane-${lane}`),
            population,
            labels.length,
            options.maxThinkMs,
          ),
          client,
          population,
        ),
    );
    const nemesis = new Nemesis({
      kinds: options.faultKinds,
      replicas: labels,
      random: random.fork('nemesis'),
      injector: new FaultInjector(stack),
      watcher,
      history,
      log,
    });

    watcher.start();
    for (const lane of lanes) lane.start();
    const until = historyNow() + options.minutes * 60_000;
    const progress = setInterval(
      () =>
        log(
          `${Math.round((historyNow() - began) / 1000)} s: ${history.count.toLocaleString('en-US')} history entries`,
        ),
      PROGRESS_MS,
    );
    try {
      await nemesis.run(until);
      // The clients run to the end of the schedule even when no further fault fits in it.
      await sleep(Math.max(0, until - historyNow()));
    } finally {
      clearInterval(progress);
      await Promise.all(lanes.map((lane) => lane.stop()));
    }

    // Liveness: every fault healed, every replica ready again, the worker and Redis running.
    const finalAt = historyNow();
    const notReady = await watcher.awaitReady(finalAt, RECOVERY_TIMEOUT_MS);
    const problems = [
      ...(nemesis.healthy ? [] : ['a replica was not ready again after a fault']),
      ...(notReady.length > 0
        ? [`${notReady.join(', ')} not ready ${RECOVERY_TIMEOUT_MS} ms after the end`]
        : []),
      ...(stack.worker.process.running ? [] : ['the worker is not running']),
      ...(stack.redis.running ? [] : ['redis-server is not running']),
    ];
    history.append({
      type: 'liveness',
      at: historyNow(),
      ok: problems.length === 0,
      detail:
        problems.length === 0
          ? `every replica ready ${Math.round(historyNow() - finalAt)} ms after the end`
          : problems.join('; '),
    });
    await watcher.stop();
    const figures = await Promise.all(
      stack.replicas.map((replica) => replicaFigures(replica.label, replica.url, replica.cacheMax)),
    );
    await stack.stop();
    stack = undefined;
    await history.close();
    const result = checkHistory(await readHistory(options.historyPath));
    return {
      result,
      historyPath: options.historyPath,
      replicas: figures,
      wallMs: historyNow() - began,
    };
  } finally {
    await stack?.stop();
    await history.close();
  }
}

/**
 * `REVOCATION_CACHE_MAX` of each replica: `tiny` of them (drawn) get 2 to 8 entries, so that
 * evictions and store lookups of what they no longer hold happen all the time.
 */
function tinyCaches(random: SeededRandom, replicas: number, tiny: number): number[] {
  const order = random.shuffle(Array.from({ length: replicas }, (_, index) => index));
  const sizes = order.map(() => random.int(2, 8));
  const chosen = new Set(order.slice(0, Math.min(tiny, replicas)));
  return Array.from({ length: replicas }, (_, index) =>
    chosen.has(index) ? (sizes[index] as number) : DEFAULT_CACHE_MAX,
  );
}

async function replicaFigures(
  label: string,
  url: string,
  cacheMax: number,
): Promise<ReplicaFigures> {
  let text = '';
  try {
    text = (await send(`${url}/metrics`)).text;
  } catch {
    // Reported as unknown.
  }
  return {
    label,
    cacheMax,
    cacheEntries: metricValue(text, 'rescind_cache_entries'),
    evictions: metricValue(text, 'rescind_cache_evictions_total'),
    overflowLookups: metricValue(text, 'rescind_overflow_lookups_total'),
  };
}
