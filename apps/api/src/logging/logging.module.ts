import { randomUUID } from 'node:crypto';
import { type IncomingMessage } from 'node:http';
import { type DynamicModule, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import pino, { type DestinationStream, type Logger } from 'pino';
import pinoPretty from 'pino-pretty';
import { type LogFormat, resolveLogFormat } from '@rescind/config';
import SonicBoom from 'sonic-boom';
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
 * Log lines are handed to the writer in chunks of at least this many characters (or every
 * {@link LOG_FLUSH_INTERVAL_MS}), which writes them to stdout asynchronously: one `write(2)` per
 * chunk or more, never one per line (see {@link LineBatch}).
 */
const LOG_BUFFER_BYTES = 8192;
/** A quiet replica's lines wait at most this long in the buffer. */
const LOG_FLUSH_INTERVAL_MS = 250;

/**
 * Gathers log lines into chunks before they reach an asynchronous writer (sonic-boom), and
 * writes what is left synchronously when the process exits (a normal exit, `process.exit()`
 * after SIGTERM, and an uncaught error alike). sonic-boom alone measures every line's byte
 * length against the whole string it is buffering, which cost 2.5 µs a line, more than a
 * `write(2)` per line; here an array of lines is joined once per chunk (docs/design.md, "Access
 * log").
 */
export class LineBatch implements DestinationStream {
  private lines: string[] = [];
  private chars = 0;
  private readonly timer: NodeJS.Timeout;
  private readonly onExit = (): void => {
    try {
      this.flushSync();
    } catch {
      // stdout closed (EPIPE): nowhere left to write.
    }
  };

  constructor(
    private readonly writer: SonicBoom,
    private readonly chunkChars = LOG_BUFFER_BYTES,
    flushIntervalMs = LOG_FLUSH_INTERVAL_MS,
  ) {
    this.timer = setInterval(() => this.flush(), flushIntervalMs).unref();
    process.once('exit', this.onExit);
  }

  write(line: string): void {
    this.lines.push(line);
    this.chars += line.length;
    if (this.chars >= this.chunkChars) this.flush();
  }

  /** Hands the gathered lines to the writer, which writes them asynchronously. */
  flush(): void {
    if (this.lines.length === 0) return;
    const chunk = this.lines.join('');
    this.lines = [];
    this.chars = 0;
    this.writer.write(chunk);
  }

  /** Writes every line gathered or buffered, before returning. */
  flushSync(): void {
    this.flush();
    this.writer.flushSync();
  }

  /** Writes what is left and stops the timer (tests; a replica writes until it exits). */
  end(): void {
    clearInterval(this.timer);
    process.removeListener('exit', this.onExit);
    this.flushSync();
  }
}

/**
 * Where the lines go: JSON through a {@link LineBatch} (the default for anything but a terminal),
 * or pino-pretty's one readable line per entry (`LOG_FORMAT`; README, "Configuration"), written
 * synchronously: a terminal is read by a person, not measured.
 */
export function logDestination(
  format: LogFormat,
  isTty: boolean | undefined = process.stdout.isTTY,
): DestinationStream {
  if (resolveLogFormat(format, isTty) === 'json') {
    return new LineBatch(new SonicBoom({ fd: 1, sync: false }));
  }
  return pinoPretty({
    destination: 1,
    sync: true,
    singleLine: true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,instance,context',
    messageFormat: '{if context}[{context}] {end}{msg}',
  });
}

/**
 * The replica's one pino logger, by default on stdout through a {@link LineBatch}, so the access
 * log costs a formatted line per request and a write per few kilobytes.
 */
export function createLogger(
  config: Pick<AppConfig, 'logLevel' | 'instanceId'> & { logFormat?: LogFormat },
  destination: DestinationStream = logDestination(config.logFormat ?? 'auto'),
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
