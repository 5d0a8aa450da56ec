import { randomUUID } from 'node:crypto';
import { type IncomingMessage, type ServerResponse } from 'node:http';
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
  'req.query.token',
];

/** Probes and scrapes: logging each would drown the log. */
const QUIET_PATHS = new Set(['/health/live', '/health/ready', '/metrics']);

/** Structured JSON logs (pino via nestjs-pino), one line per request with its request id. */
@Module({})
export class LoggingModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: LoggingModule,
      imports: [
        LoggerModule.forRoot({
          pinoHttp: {
            level: config.logLevel,
            base: { instance: config.instanceId },
            redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
            // Fastify assigns the id itself (see create-app.ts); this serves Express.
            genReqId: (request: IncomingMessage, response: ServerResponse) => {
              const id = requestId(request);
              response.setHeader('x-request-id', id);
              return id;
            },
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
