import { type IncomingMessage, type ServerResponse } from 'node:http';
import { type Logger } from 'pino';

/** Probes and scrapes: logging each would drown the log. */
const QUIET_PATHS = new Set(['/health/live', '/health/ready', '/metrics']);

/** What the access line says of a request: never its headers, body or query string. */
interface AccessLine {
  req: { id: string; method: string; url: string };
  res: { statusCode: number };
  /** Milliseconds from the request's arrival to the end of its answer. */
  responseTime: number;
}

/** The path without its query string, the one place a careless client puts a token. */
function pathOf(url: string): string {
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

/** Writes one request's line: `request completed`, or `request errored` for a 5xx answer. */
function writeLine(
  logger: Logger,
  id: string,
  method: string,
  url: string,
  statusCode: number,
  responseTime: number,
): void {
  const path = pathOf(url);
  if (QUIET_PATHS.has(path)) return;
  const line: AccessLine = {
    req: { id, method, url: path },
    res: { statusCode },
    responseTime: Math.round(responseTime),
  };
  logger.info(line, statusCode >= 500 ? 'request errored' : 'request completed');
}

/**
 * The logger access lines are written with: `logger` without its redaction, which has nothing to
 * find in a line built of the fields above (and costs half of writing the line).
 */
function accessLogger(logger: Logger): Logger {
  return logger.child({}, { redact: { paths: [] } });
}

/** True when `logger` writes access lines (`LOG_LEVEL` `info`, `debug` or `trace`). */
export function accessLogEnabled(logger: Logger): boolean {
  return logger.isLevelEnabled('info');
}

/** Fastify `onResponse` hook writing the access line (installed only when enabled). */
export function fastifyAccessLog(
  logger: Logger,
): (
  request: { id: string; method: string; url: string },
  reply: { statusCode: number; elapsedTime: number },
  done: () => void,
) => void {
  const lines = accessLogger(logger);
  return (request, reply, done) => {
    writeLine(lines, request.id, request.method, request.url, reply.statusCode, reply.elapsedTime);
    done();
  };
}

/** Express middleware writing the access line once the answer is sent (installed only when enabled). */
export function expressAccessLog(
  logger: Logger,
): (
  request: IncomingMessage & { id?: string; originalUrl?: string },
  response: ServerResponse,
  next: () => void,
) => void {
  const lines = accessLogger(logger);
  return (request, response, next) => {
    const startedAt = performance.now();
    response.once('finish', () =>
      writeLine(
        lines,
        request.id ?? '',
        request.method ?? '',
        request.originalUrl ?? request.url ?? '',
        response.statusCode,
        performance.now() - startedAt,
      ),
    );
    next();
  };
}
