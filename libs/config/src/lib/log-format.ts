import { type EnvReader } from './env-reader';

/**
 * `LOG_FORMAT`: `json` (one object per line, for collectors), `pretty` (one readable line per
 * entry, for people), or `auto`: pretty when the output is a terminal, JSON otherwise.
 */
export type LogFormat = 'auto' | 'json' | 'pretty';

/** Reads `LOG_FORMAT` (default `auto`). */
export function readLogFormat(read: EnvReader): LogFormat {
  return read.oneOf('LOG_FORMAT', 'auto', ['auto', 'json', 'pretty'] as const);
}

/**
 * The format `format` means for an output that is (`isTty`) or is not a terminal.
 * @param isTty e.g. `process.stdout.isTTY`, which is `undefined` for a pipe or a file
 */
export function resolveLogFormat(format: LogFormat, isTty: boolean | undefined): 'json' | 'pretty' {
  if (format !== 'auto') return format;
  return isTty === true ? 'pretty' : 'json';
}
