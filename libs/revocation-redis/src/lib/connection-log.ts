import { type RedisClient } from './redis-topology';

/** Where a client's connection changes are written: a NestJS `Logger` fits, as does `console`. */
export interface ConnectionLogger {
  /** The connection started failing (once per outage, with the cause). */
  warn(message: string): void;
  /** The connection is back after failing (once per outage). */
  log(message: string): void;
}

/** Writes one line to stderr: the default where no logger is given. */
export const stderrConnectionLogger: ConnectionLogger = {
  warn: (message) => process.stderr.write(`[rescind] WARN ${message}\n`),
  log: (message) => process.stderr.write(`[rescind] ${message}\n`),
};

/**
 * The cause of a connection error in words. Node reports a refused connection to a name with
 * several addresses (`localhost`: ::1 and 127.0.0.1) as an `AggregateError` without a message.
 * Read by shape, not `instanceof`: errors may come from another realm (a test sandbox).
 */
export function describeConnectionError(error: unknown): string {
  if (typeof error !== 'object' || error === null) return String(error);
  const { message, code, name, errors } = error as {
    message?: unknown;
    code?: unknown;
    name?: unknown;
    errors?: unknown;
  };
  if (Array.isArray(errors) && errors.length > 0) {
    return [...new Set(errors.map((cause: unknown) => describeConnectionError(cause)))].join('; ');
  }
  if (typeof message === 'string' && message !== '') return message;
  if (typeof code === 'string') return code;
  return typeof name === 'string' ? name : String(error);
}

/**
 * Gives `client` its `error` listener, so that ioredis never reports an "Unhandled error event",
 * and logs its connection by changes of state, not by attempt: the first error of an outage is
 * one warning with its cause, the retries that follow (one a second at most, `reconnectDelay`)
 * are silent, and the next `ready` is one line saying it is back (docs/design.md, "Transport
 * status").
 */
export function logConnectionChanges(
  client: RedisClient,
  label: string,
  logger: ConnectionLogger = stderrConnectionLogger,
): void {
  let failing = false;
  client.on('error', (error: unknown) => {
    if (failing) return;
    failing = true;
    logger.warn(
      `Redis ${label}: connection failing (${describeConnectionError(error)}); ` +
        'retrying at least once a second, logged again once it is back',
    );
  });
  client.on('ready', () => {
    if (!failing) return;
    failing = false;
    logger.log(`Redis ${label}: connected again`);
  });
}

/** Anything that reports errors as `error` events: a BullMQ `Worker` or `Queue`, say. */
export interface ErrorEmitter {
  on(event: 'error', listener: (error: Error) => void): unknown;
}

/**
 * Logs the errors `source` emits by changes of state, like {@link logConnectionChanges}: the first
 * one of an outage as one warning, the rest silent until `client` (the connection `source`
 * works through) is ready again. BullMQ re-emits every failed reconnection of its connections as
 * an `error` of the worker; logged as they come, an outage writes a line per retry.
 */
export function logErrorsOncePerOutage(
  source: ErrorEmitter,
  client: RedisClient,
  label: string,
  logger: ConnectionLogger = stderrConnectionLogger,
): void {
  let failing = false;
  source.on('error', (error) => {
    if (failing) return;
    failing = true;
    logger.warn(
      `${label}: ${describeConnectionError(error)}; further errors logged once it is back`,
    );
  });
  client.on('ready', () => {
    failing = false;
  });
}
