import * as path from 'node:path';
import { type ChartSpec, writeChart } from '@rescind/charts';
import { repoRoot } from '@rescind/testing';
import { type BenchReport } from './bench-summary';
import { type ThroughputReport } from './rounds';
import {
  FLOOR_AT_INFO_LABEL,
  FLOOR_LABEL,
  LOCAL_AT_INFO_LABEL,
  TEXTBOOK_LABEL,
} from './throughput.section';

// The SVG charts of a run (load-tests/bench/README.md embeds them), drawn with @rescind/charts.

/** Where the charts go: `load-tests/bench/charts/` of the repository. */
export function chartsDirectory(): string {
  return path.join(repoRoot(), 'load-tests', 'bench', 'charts');
}

/** What a configuration is, for the bars' colour. */
function kindOf(label: string): string {
  if (label === TEXTBOOK_LABEL) return 'textbook guard';
  if (label === FLOOR_LABEL || label === FLOOR_AT_INFO_LABEL) return 'floor (no guard)';
  if (label.endsWith('/local') || label === LOCAL_AT_INFO_LABEL) return 'Rescind (local)';
  return 'baseline (none, redis)';
}

/** Requests/s and CPU per request of every configuration: its median, and each round as a dot. */
function throughputChart(
  t: ThroughputReport,
  metric: 'requestsPerSecond' | 'cpuMicrosPerRequest',
  title: string,
  axis: string,
  subtitle: string,
): ChartSpec {
  const order = [...t.medians.values()]
    .sort((a, b) => b.requestsPerSecond - a.requestsPerSecond)
    .map((m) => m.label);
  const medians = [...t.medians.values()].map((m) => ({
    configuration: m.label,
    kind: kindOf(m.label),
    value: Math.round(m[metric] * 10) / 10,
  }));
  const rounds = t.rounds.map((r) => ({ configuration: r.label, value: r[metric] }));
  const y = { field: 'configuration', type: 'nominal', sort: order, title: null } as const;
  return {
    title: { text: title, subtitle },
    width: 520,
    layer: [
      {
        data: { values: medians },
        mark: { type: 'bar' },
        encoding: {
          y,
          x: { field: 'value', type: 'quantitative', title: axis },
          color: {
            field: 'kind',
            type: 'nominal',
            title: null,
            legend: { orient: 'bottom', labelLimit: 400 },
            scale: {
              domain: [
                'Rescind (local)',
                'floor (no guard)',
                'baseline (none, redis)',
                'textbook guard',
              ],
              range: ['#2f6fb0', '#9bbbd9', '#b5b5b5', '#d0603a'],
            },
          },
        },
      },
      {
        data: { values: medians },
        mark: { type: 'text', align: 'left', dx: 4 },
        encoding: {
          y,
          x: { field: 'value', type: 'quantitative' },
          text: { field: 'value', type: 'quantitative', format: ',.0f' },
        },
      },
      {
        data: { values: rounds },
        mark: { type: 'tick', color: 'black', opacity: 0.5, thickness: 1 },
        encoding: { y, x: { field: 'value', type: 'quantitative' } },
      },
    ],
  };
}

/** Cumulative share of samples at or below each latency, one line per series. */
function cdfChart(
  series: readonly { name: string; samplesMs: readonly number[] }[],
  title: string,
  subtitle: string,
): ChartSpec {
  const values = series.flatMap(({ name, samplesMs }) => {
    const sorted = [...samplesMs].sort((a, b) => a - b);
    return sorted.map((ms, i) => ({
      series: name,
      ms: Math.max(ms, 0.01),
      share: (i + 1) / sorted.length,
    }));
  });
  return {
    title: { text: title, subtitle },
    width: 520,
    height: 260,
    data: { values },
    mark: { type: 'line', interpolate: 'step-after' },
    encoding: {
      x: {
        field: 'ms',
        type: 'quantitative',
        scale: { type: 'log' },
        title: 'ms (log scale)',
      },
      y: {
        field: 'share',
        type: 'quantitative',
        title: 'share of revocations seen (cumulative)',
        axis: { format: '%' },
      },
      color: {
        field: 'series',
        type: 'nominal',
        title: null,
        legend: { orient: 'bottom', labelLimit: 400 },
      },
    },
  };
}

/** Writes every chart the run has data for; returns their paths. */
export async function writeBenchCharts(
  report: BenchReport,
  directory = chartsDirectory(),
): Promise<string[]> {
  const run = `${report.options.quick ? '--quick' : 'full'} run, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  const written: string[] = [];
  const t = report.throughput;
  if (t) {
    const shape = `GET /me (the floor: GET /bench/floor), ${report.options.connections} connections; medians of ${report.options.rounds} rounds (ticks: each round); ${run}`;
    written.push(
      await writeChart(
        path.join(directory, 'throughput.svg'),
        throughputChart(t, 'requestsPerSecond', 'Requests per second', 'requests/s', shape),
      ),
      await writeChart(
        path.join(directory, 'cpu-per-request.svg'),
        throughputChart(
          t,
          'cpuMicrosPerRequest',
          'Server CPU per request',
          'CPU µs per request',
          shape,
        ),
      ),
    );
  }
  const f = report.fanOut;
  if (f) {
    written.push(
      await writeChart(
        path.join(directory, 'fan-out.svg'),
        cdfChart(
          [
            { name: 'idle', samplesMs: f.idle.samplesMs },
            {
              name: `under load (${Math.round(f.loaded.backgroundRequestsPerSecond ?? f.targetBackgroundRate)} req/s)`,
              samplesMs: f.loaded.samplesMs,
            },
          ],
          'Fan-out: logout on one replica → 401 on another',
          `3 replicas, ${f.idle.samples / 2} revocations per phase, each seen by 2 other replicas; ${run}`,
        ),
      ),
    );
  }
  const b = report.external?.backChannel;
  if (b && !('unavailable' in b)) {
    written.push(
      await writeChart(
        path.join(directory, 'back-channel.svg'),
        cdfChart(
          [
            {
              name: 'back-channel logout → last of 3 replicas rejects',
              samplesMs: b.lastReplicaSamplesMs,
            },
          ],
          'External issuer: back-channel logout → every replica rejects',
          `${b.sessions} provider sessions, idle; ${run}`,
        ),
      ),
    );
  }
  return written;
}
