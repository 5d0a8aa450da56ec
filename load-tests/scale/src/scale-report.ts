import { type CapacityModel, fitCapacity, maxRate } from './capacity-model';
import { type ColdStartStorm, type FanOutCell, type ReconnectStorm } from './scenarios';

/** What a run writes to results.json. */
export interface ScaleResults {
  readonly startedAt: string;
  readonly seconds: number;
  readonly command: string;
  readonly machine: { readonly cores: number; readonly loadAverage: readonly number[] };
  readonly options: Record<string, unknown>;
  readonly pubsubBufferLimit: { hardBytes: number; softBytes: number; softSeconds: number };
  readonly matrix: readonly FanOutCell[];
  readonly storms: readonly ReconnectStorm[];
  readonly cold?: ColdStartStorm;
}

/** The fan-out target: p99 within this, nothing lost (load-tests/README.md, "Fan-out at scale"). */
export const FAN_OUT_P99_TARGET_MS = 50;
/** The reconnect-storm target: every replica in sync within this. */
export const STORM_SYNC_TARGET_MS = 5000;

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    '| ' +
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number)))
      .join(' | ') +
    ' |';
  const rule =
    '| ' +
    widths.map((w, i) => (i === 0 ? '-'.repeat(w) : '-'.repeat(w - 1) + ':')).join(' | ') +
    ' |';
  return [line(header), rule, ...rows.map(line)].join('\n');
}

const ms = (value: number | null | undefined, digits = 1): string =>
  value === null || value === undefined ? '-' : value.toFixed(digits);
const kib = (bytes: number): string => (bytes / 1024).toFixed(0);

export function capacityOf(results: ScaleResults): CapacityModel | undefined {
  return fitCapacity(
    results.matrix.map((cell) => ({
      replicas: cell.replicas,
      rate: cell.rate,
      written: cell.written,
      redisCpuSeconds: cell.redis.cpuSeconds,
      netOutputBytes: cell.redis.netOutputBytes,
      lost: cell.lost,
    })),
  );
}

/**
 * What limited a cell's fan-out latency: `simulator` when the worker processes' event loops lagged
 * more than the target (their messages waited on the simulator's CPU, not on the product),
 * `redis` when Redis used most of its one command thread, otherwise `-`.
 */
export function boundBy(cell: FanOutCell): string {
  if (cell.redis.cores > 0.8) return 'redis';
  if (cell.simulatorLoopDelayP99Ms > FAN_OUT_P99_TARGET_MS) return 'simulator';
  return '-';
}

/** The report printed at the end of a run (Markdown tables, pasted into the README). */
export function formatReport(results: ScaleResults): string {
  const parts: string[] = [];
  if (results.matrix.length > 0) {
    parts.push(
      'Fan-out (revocation written → applied on each simulated replica):',
      '',
      table(
        [
          'replicas × rev/s',
          'achieved/s',
          's',
          'p50 ms',
          'p99 ms',
          'max ms',
          'p99/50ms',
          'full',
          'full p99 ms',
          'wire p99 ms',
          'lost',
          'revoke p99 ms',
          'Redis cores',
          'µs/delivery',
          'B/revocation',
          'peak out buf KiB',
          'disconnects',
          'sim cores',
          'sim µs/delivery',
          'sim loop p99 ms',
          'bound by',
        ],
        results.matrix.map((c) => [
          `${c.replicas} × ${c.rate}`,
          c.achievedRate.toFixed(0),
          c.seconds.toFixed(1),
          ms(c.fanOut.p50Ms),
          ms(c.fanOut.p99Ms),
          ms(c.fanOut.maxMs),
          c.fanOut.p99Ms === null ? '-' : (c.fanOut.p99Ms / FAN_OUT_P99_TARGET_MS).toFixed(2) + '×',
          // Older results.json files have no split: every replica was a full one.
          String(c.fullReplicas ?? c.replicas),
          ms(c.fanOutFull?.p99Ms ?? c.fanOut.p99Ms),
          ms(c.fanOutWire?.p99Ms),
          String(c.lost),
          ms(c.revokeP99Ms),
          c.redis.cores.toFixed(2),
          c.redisCpuUsPerDelivery.toFixed(2),
          c.bytesPerRevocation.toFixed(0),
          kib(Math.max(c.peakOutputBufferBytes, c.peakPubsubOmemBytes)),
          String(c.subscriberDisconnects),
          c.simulatorCores.toFixed(2),
          ms(c.simulatorCpuUsPerDelivery),
          ms(c.simulatorLoopDelayP99Ms),
          boundBy(c),
        ]),
      ),
      '',
      `pub/sub output buffer limit: hard ${kib(results.pubsubBufferLimit.hardBytes)} KiB, soft ` +
        `${kib(results.pubsubBufferLimit.softBytes)} KiB for ${results.pubsubBufferLimit.softSeconds} s`,
    );
  }
  if (results.storms.length > 0) {
    parts.push(
      '',
      'Reconnect storm (CLIENT KILL TYPE pubsub while revocations flow):',
      '',
      table(
        [
          'replicas',
          'rev/s',
          'killed',
          'subscribed after ms',
          'in sync after ms',
          `÷ ${STORM_SYNC_TARGET_MS} ms`,
          'Redis cores',
          'Redis CPU s',
          'commands',
          'fan-out p99 ms',
          'lost',
        ],
        results.storms.map((s) => [
          String(s.replicas),
          String(s.rate),
          String(s.killed),
          // Absent from results of runs before it was recorded.
          ms(s.timeToSubscribedMs as number | undefined, 0),
          s.timeToSyncMs.toFixed(0),
          (s.timeToSyncMs / STORM_SYNC_TARGET_MS).toFixed(2) + '×',
          s.redisCoresDuringStorm.toFixed(2),
          s.redisCpuSecondsDuringStorm.toFixed(3),
          String(s.commandsDuringStorm),
          ms(s.fanOut.p99Ms),
          String(s.lost),
        ]),
      ),
    );
  }
  const cold = results.cold;
  if (cold !== undefined) {
    parts.push(
      '',
      'Cold-start storm (every replica hydrates at once):',
      '',
      table(
        [
          'replicas',
          'revocations',
          'all ready s',
          'Redis CPU s',
          'Redis cores',
          'MiB out/replica',
          'Redis used MiB',
          'worker heap MiB',
        ],
        [
          [
            String(cold.replicas),
            String(cold.revocations),
            (cold.allReadyMs / 1000).toFixed(2),
            cold.redisCpuSeconds.toFixed(2),
            cold.redisCores.toFixed(2),
            (cold.bytesPerReplica / 2 ** 20).toFixed(1),
            (cold.redisUsedMemoryBytes / 2 ** 20).toFixed(0),
            (cold.workerHeapBytes / 2 ** 20).toFixed(0),
          ],
        ],
      ),
    );
  }
  const model = capacityOf(results);
  if (model !== undefined) {
    parts.push(
      '',
      `Capacity model: ${model.cpuUsPerDelivery.toFixed(2)} µs of Redis CPU and ` +
        `${model.bytesPerDelivery.toFixed(0)} B per delivered message → one primary at ` +
        `${(model.utilisation * 100).toFixed(0)}% of a core carries ` +
        `${(model.deliveriesPerSecond / 1000).toFixed(0)}k deliveries/s: ` +
        [100, 1000, 10_000]
          .map((r) => `${maxRate(model, r).toFixed(0)} rev/s at ${r} replicas`)
          .join(', '),
    );
  }
  parts.push('', `${results.seconds.toFixed(0)} s; command: ${results.command}`);
  return parts.join('\n');
}
