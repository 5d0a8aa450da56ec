import { randomUUID } from 'node:crypto';
import { type IncomingMessage } from 'node:http';
import { type DynamicModule, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import pino, { type DestinationStream, type Logger } from 'pino';
import { type AppConfig } from '../config/app-config';

/** Request ids callers may pass through (`x-request-id`); anything else is replaced. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The caller's `x-request-id` when it is sane, otherwise a new UUID. */
export function requestId(request: IncomingMessage): string {
  const given = request.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

/**
 * Everything that could carry a credential, censored before a log line is written: tokens and
 * cookies in headers, passwords and tokens in bodies. (Tested: no token or secret reaches the log.)
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'req.body.password',
  'req.body.token',
  'req.body.refresh_token',
  'req.query.token',
  'req.query.refresh_token',
];

/**
 * Log output is written in chunks of at least this many bytes, asynchronously, rather than one
 * `write(2)` per line: the buffer is flushed when it fills, every {@link LOG_FLUSH_INTERVAL_MS},
 * and synchronously when the process exits (pino's destination registers that flush, for a normal
 * exit, `process.exit()` after SIGTERM, and an uncaught error alike).
 */
const LOG_BUFFER_BYTES = 4096;
/** A quiet replica's lines wait at most this long in the buffer. */
const LOG_FLUSH_INTERVAL_MS = 250;

/**
 * The replica's one pino logger, on stdout. Its destination buffers (see {@link LOG_BUFFER_BYTES}),
 * so the access log costs a formatted line per request and a write per few kilobytes.
 */
export function createLogger(
  config: Pick<AppConfig, 'logLevel' | 'instanceId'>,
  destination: DestinationStream = pino.destination({
    dest: 1,
    sync: false,
    minLength: LOG_BUFFER_BYTES,
    periodicFlush: LOG_FLUSH_INTERVAL_MS,
  }),
): Logger {
  return pino(
    {
      level: config.logLevel,
      base: { instance: config.instanceId },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    },
    destination,
  );
}

/**
 * Structured JSON logs (pino, through nestjs-pino for Nest's own `Logger`).
 *
 * No request middleware is installed at any level: nestjs-pino's (pino-http through
 * `@fastify/middie`, a child logger and an `AsyncLocalStorage` scope per request, whose promise
 * hooks then tax every promise of the process) cost about a quarter of a guarded request. The
 * access log is instead one hook per adapter (`access-log.ts`, installed by `create-app.ts` only
 * when `info` is enabled). Log lines written while handling a request carry its id only where the
 * code writes it (`RescindExceptionFilter` does; the access line always does).
 */
@Module({})
export class LoggingModule {
  static forRoot(logger: Logger): DynamicModule {
    return {
      module: LoggingModule,
      // nestjs-pino makes a child of `logger` its root (`PinoLogger.root`); `forRoutes: []`
      // keeps its request middleware out.
      imports: [LoggerModule.forRoot({ forRoutes: [], pinoHttp: { logger } })],
    };
  }
}
