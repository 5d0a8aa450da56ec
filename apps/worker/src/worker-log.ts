/** Severity of a worker log line. */
export type WorkerLogLevel = 'info' | 'warn' | 'error';

/** One worker log entry: JSON with these members, or a readable line (`LOG_FORMAT`). */
export interface WorkerLogEntry {
  readonly time: Date;
  readonly level: WorkerLogLevel;
  readonly msg: string;
  readonly extra: Record<string, unknown>;
}

/** One JSON object per line, for collectors. */
export function jsonLine({ time, level, msg, extra }: WorkerLogEntry): string {
  return `${JSON.stringify({ time: time.toISOString(), level, msg, ...extra })}\n`;
}

/**
 * One readable line, laid out like the API's pino-pretty lines (`[12:00:00.000] WARN: …`), so
 * that `npm start` on a terminal reads alike for every process.
 */
export function prettyLine({ time, level, msg, extra }: WorkerLogEntry): string {
  const clock = [time.getHours(), time.getMinutes(), time.getSeconds()]
    .map((part) => String(part).padStart(2, '0'))
    .join(':');
  const millis = String(time.getMilliseconds()).padStart(3, '0');
  const rest = Object.keys(extra).length > 0 ? ` ${JSON.stringify(extra)}` : '';
  return `[${clock}.${millis}] ${level.toUpperCase()}: ${msg}${rest}\n`;
}
