import { createServer, type Server } from 'node:http';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

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

  constructor() {
    collectDefaultMetrics({ register: this.registry });
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
