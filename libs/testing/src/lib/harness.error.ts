/** Stable codes of {@link HarnessError}; branch on these, never on messages. */
export type HarnessErrorCode =
  | 'ERR_WAIT_TIMEOUT'
  | 'ERR_SPAWN'
  | 'ERR_PROCESS_EXITED'
  | 'ERR_REDIS_UNAVAILABLE'
  | 'ERR_REDIS_START'
  | 'ERR_REDIS_PORT_IN_USE'
  | 'ERR_REDIS_CONNECTION'
  | 'ERR_NO_REPO_ROOT'
  | 'ERR_NOT_BUILT';

/** Every failure of the process harness, with a machine-readable `code`. */
export class HarnessError extends Error {
  constructor(
    readonly code: HarnessErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'HarnessError';
  }
}
