import { parentPort } from 'node:worker_threads';
import { runBatch } from './seed-batch';
import { type RunOptions } from './simulation';

/** A request to a simulation worker: the seeds of one chunk. */
export interface WorkerRequest {
  readonly seeds: readonly number[];
  readonly options: RunOptions;
}

if (parentPort !== null) {
  const port = parentPort;
  // The core throws (and catches) errors for every malformed message; their stack traces are
  // most of what they cost, and nothing here prints them.
  Error.stackTraceLimit = 0;
  port.on('message', (request: WorkerRequest) => {
    void runBatch(request.seeds, request.options).then((report) => port.postMessage(report));
  });
}
