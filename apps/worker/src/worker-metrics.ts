import { createServer, type Server } from 'node:http';
import { type RegionBridgeStatus } from '@rescind/revocation-redis';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics of the worker, served on `WORKER_METRICS_PORT` at `/metrics`. */
export class WorkerMetrics {
  readonly registry = new Registry();
  /** Duration of each job, by job name and outcome. */
  readonly jobDuration = new Histogram({
    name: 'rescind_worker_job_duration_seconds',
    help: 'Duration of maintenance jobs',
    labelNames: ['job', 'outcome'] as const,
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
    registers: [this.registry],
  });
  /** Jobs that threw (each attempt counts). */
  readonly jobFailures = new Counter({
    name: 'rescind_worker_job_failures_total',
    help: 'Failed maintenance job attempts',
    labelNames: ['job'] as const,
    registers: [this.registry],
  });
  /** What tidying removed. */
  readonly tidied = new Counter({
    name: 'rescind_worker_tidied_total',
    help: 'Expired revocation entries removed from the store, by structure',
    labelNames: ['structure'] as const,
    registers: [this.registry],
  });

  /** Revocations each peer region's bridge recorded here (docs/design.md, "Several regions"). */
  readonly bridgeApplied = new Counter({
    name: 'rescind_bridge_applied_total',
    help: 'Revocations a peer region made that the bridge recorded in this region',
    labelNames: ['peer'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /**
   * Exposes the state of the bridges to peer regions, read at each scrape: lag in entries and
   * seconds, link up, and the last position applied.
   */
  watchBridges(statuses: () => readonly RegionBridgeStatus[]): void {
    const gauge = (
      name: string,
      help: string,
      value: (status: RegionBridgeStatus) => number,
    ): void => {
      new Gauge({
        name,
        help,
        labelNames: ['peer'] as const,
        registers: [this.registry],
        collect() {
          for (const status of statuses()) this.set({ peer: status.peer }, value(status));
        },
      });
    };
    gauge(
      'rescind_bridge_lag_entries',
      "Entries of the peer region's log not applied here yet, as of the last exchange",
      (s) => s.lagEntries,
    );
    gauge(
      'rescind_bridge_lag_seconds',
      'Seconds since the bridge last knew it held everything the peer region had logged',
      (s) => s.lagMs / 1000,
    );
    gauge(
      'rescind_bridge_link_up',
      'Whether the last exchange with the peer region succeeded (1) or not (0)',
      (s) => (s.linkUp ? 1 : 0),
    );
    gauge(
      'rescind_bridge_position_seq',
      "Sequence number of the last entry of the peer region's log applied here",
      (s) => s.position?.seq ?? 0,
    );
  }

  /** Serves `/metrics` on `port` (0 disables); a busy port is reported, not fatal. */
  serve(port: number, onError: (error: Error) => void): Server | undefined {
    if (port === 0) return undefined;
    const server = createServer((request, response) => {
      if (request.url !== '/metrics') {
        response.writeHead(404, { 'content-type': 'application/json' }).end('{"statusCode":404}');
        return;
      }
      this.registry.metrics().then(
        (text) => response.writeHead(200, { 'content-type': this.registry.contentType }).end(text),
        () => response.writeHead(500).end(),
      );
    });
    server.on('error', onError);
    server.listen(port, '0.0.0.0');
    return server;
  }
}
