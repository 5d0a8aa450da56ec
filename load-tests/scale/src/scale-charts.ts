import * as path from 'node:path';
import { writeChart } from '@rescind/charts';
import { FAN_OUT_P99_TARGET_MS, type ScaleResults, STORM_SYNC_TARGET_MS } from './scale-report';

/**
 * The README's charts: fan-out p99 against replicas for each rate (log scales, the 50 ms target
 * drawn), and the reconnect storm's time until every replica is in sync (the 5 s target drawn).
 * @returns the files written
 */
export async function writeScaleCharts(
  outDir: string,
  results: ScaleResults,
  suffix: string,
): Promise<string[]> {
  const written: string[] = [];
  const fanOut = results.matrix
    .filter((c) => c.fanOut.p99Ms !== null)
    .map((c) => ({
      replicas: c.replicas,
      rate: `${c.rate} rev/s`,
      p99: Math.max(0.1, c.fanOut.p99Ms as number),
      lost: c.lost,
    }));
  if (fanOut.length > 0) {
    const file = path.join(outDir, `fan-out-p99${suffix}.svg`);
    await writeChart(file, {
      title: 'fan-out p99 (revocation written → applied on every replica)',
      width: 420,
      height: 260,
      layer: [
        {
          data: { values: fanOut },
          mark: { type: 'line', point: true },
          encoding: {
            x: {
              field: 'replicas',
              type: 'quantitative',
              scale: { type: 'log' },
              title: 'simulated replicas',
            },
            y: { field: 'p99', type: 'quantitative', scale: { type: 'log' }, title: 'p99 (ms)' },
            color: { field: 'rate', type: 'nominal', title: 'revocations/s' },
          },
        },
        {
          data: { values: [{ target: FAN_OUT_P99_TARGET_MS }] },
          mark: { type: 'rule', strokeDash: [4, 4], color: 'red' },
          encoding: { y: { field: 'target', type: 'quantitative' } },
        },
      ],
    });
    written.push(file);
  }
  if (results.storms.length > 0) {
    const file = path.join(outDir, `reconnect-storm${suffix}.svg`);
    await writeChart(file, {
      title: 'reconnect storm: every subscriber killed → all in sync',
      width: 420,
      height: 220,
      layer: [
        {
          data: {
            values: results.storms.map((s) => ({
              replicas: String(s.replicas),
              ms: s.timeToSyncMs,
            })),
          },
          mark: 'bar',
          encoding: {
            x: { field: 'replicas', type: 'ordinal', title: 'simulated replicas', sort: null },
            y: { field: 'ms', type: 'quantitative', title: 'time to sync (ms)' },
          },
        },
        {
          data: { values: [{ target: STORM_SYNC_TARGET_MS }] },
          mark: { type: 'rule', strokeDash: [4, 4], color: 'red' },
          encoding: { y: { field: 'target', type: 'quantitative' } },
        },
      ],
    });
    written.push(file);
  }
  return written;
}
