import { type IncomingMessage, type ServerResponse } from 'node:http';
import { pino, type Logger } from 'pino';

/** Probes and scrapes: logging each would drown the log. */
const QUIET_PATHS = new Set(['/health/live', '/health/ready', '/metrics']);

/** The path without its query string, the one place a careless client puts a token. */
function pathOf(url: string): string {
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

/** Where pino writes a logger's lines, and what it puts on each (pino's own symbols). */
type PinoInternals = Logger & {
  [pino.symbols.streamSym]: { write(line: string): unknown };
  [pino.symbols.chindingsSym]: string;
};

/**
 * Writes access lines: one per request, never its headers, body or query string. Each line is
 * exactly what `logger.info({ req: { id, method, url }, res: { statusCode }, responseTime },
 * 'request completed')` writes (`request errored` for a 5xx answer), to the same destination, but
 * formatted here in one template: pino's general path (its serializers, redaction and key loop)
 * cost 4 µs a line, most of what the access log cost a request (docs/design.md, "Access log").
 * Nothing in these fields needs redacting; `access-log.spec.ts` holds the two outputs equal.
 */
class AccessLineWriter {
  private readonly stream: { write(line: string): unknown };
  /** `{"level":30,"time":` as pino starts an info line. */
  private readonly head: string;
  /** The logger's bindings (`,"instance":"…"`), as pino puts them after the time. */
  private readonly bindings: string;

  constructor(logger: Logger) {
    const internals = logger as PinoInternals;
    this.stream = internals[pino.symbols.streamSym];
    this.head = `{"level":${logger.levels.values['info']},"time":`;
    this.bindings = internals[pino.symbols.chindingsSym];
  }

  write(id: string, method: string, url: string, statusCode: number, responseTime: number): void {
    const path = pathOf(url);
    if (QUIET_PATHS.has(path)) return;
    const msg = statusCode >= 500 ? 'request errored' : 'request completed';
    this.stream.write(
      `${this.head}${Date.now()}${this.bindings},"req":{"id":${JSON.stringify(id)},"method":${JSON.stringify(method)},"url":${JSON.stringify(path)}},"res":{"statusCode":${statusCode}},"responseTime":${Math.round(responseTime)},"msg":"${msg}"}\n`,
    );
  }
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
  const lines = new AccessLineWriter(logger);
  return (request, reply, done) => {
    lines.write(request.id, request.method, request.url, reply.statusCode, reply.elapsedTime);
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
  const lines = new AccessLineWriter(logger);
  return (request, response, next) => {
    const startedAt = performance.now();
    response.once('finish', () =>
      lines.write(
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
