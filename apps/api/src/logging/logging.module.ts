import { randomUUID } from 'node:crypto';
import { type IncomingMessage } from 'node:http';
import { type DynamicModule, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
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

/** Levels at which pino-http writes its one line per request (it logs at `info`). */
const ACCESS_LOG_LEVELS = new Set(['info', 'debug', 'trace']);

/** Probes and scrapes: logging each would drown the log. */
const QUIET_PATHS = new Set(['/health/live', '/health/ready', '/metrics']);

/**
 * Structured JSON logs (pino via nestjs-pino), one line per request with its request id.
 *
 * Above `info` (`LOG_LEVEL=warn` and quieter) no request line would be written, so the request
 * middleware is not installed at all: it costs about a quarter of a guarded request's CPU
 * (a child logger and an AsyncLocalStorage scope per request, and AsyncLocalStorage's promise
 * hooks on every promise of the process). Log lines then carry the request id only where the
 * code writes it (`RescindExceptionFilter` does).
 */
@Module({})
export class LoggingModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: LoggingModule,
      imports: [
        LoggerModule.forRoot({
          ...(ACCESS_LOG_LEVELS.has(config.logLevel) ? {} : { forRoutes: [] }),
          pinoHttp: {
            level: config.logLevel,
            base: { instance: config.instanceId },
            redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
            // create-app.ts assigns the id (and its response header) before this runs.
            genReqId: (request: IncomingMessage & { id?: unknown }) =>
              typeof request.id === 'string' ? request.id : requestId(request),
            // Probes and scrapes would drown the log.
            autoLogging: {
              ignore: (request: IncomingMessage & { originalUrl?: string }) =>
                QUIET_PATHS.has((request.originalUrl ?? request.url ?? '').split('?')[0] ?? ''),
            },
            serializers: {
              req: (request: { id: string; method: string; url: string }) => ({
                id: request.id,
                method: request.method,
                // Drop the query string: it is the one place a careless client puts a token.
                url: request.url.split('?')[0],
              }),
              res: (response: { statusCode: number }) => ({ statusCode: response.statusCode }),
            },
          },
        }),
      ],
    };
  }
}
