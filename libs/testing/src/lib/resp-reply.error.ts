/** An error reply from Redis (`-WRONGTYPE …`); `code` is its first word, e.g. `ERR`, `LOADING`. */
export class RespReplyError extends Error {
  readonly code: string;

  constructor(message: string) {
    super(message);
    this.name = 'RespReplyError';
    this.code = message.split(' ', 1)[0] ?? 'ERR';
  }
}
