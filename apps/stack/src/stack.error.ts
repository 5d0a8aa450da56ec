/** Stable codes of {@link StackError}. */
export type StackErrorCode =
  | 'ERR_STACK_CONFIG'
  | 'ERR_NO_REDIS'
  | 'ERR_PORT_IN_USE'
  | 'ERR_CHILD_EXITED'
  | 'ERR_START_TIMEOUT'
  | 'ERR_STOPPED';

/** A reason the local stack cannot start or keep running; the message is one line for the terminal. */
export class StackError extends Error {
  constructor(
    readonly code: StackErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'StackError';
  }
}
