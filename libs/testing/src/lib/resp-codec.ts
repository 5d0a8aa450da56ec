import { RespReplyError } from './resp-reply.error';

/** A decoded RESP2 reply; an error nested in an array (e.g. from EXEC) stays a value. */
export type RespReply = string | number | null | RespReplyError | RespReply[];

/** A decoded reply and the offset just after it. */
export interface DecodedReply {
  value: RespReply;
  next: number;
}

/** Encodes a command as a RESP array of bulk strings, the form every Redis accepts. */
export function encodeCommand(args: readonly string[]): Buffer {
  let out = `*${args.length}\r\n`;
  for (const arg of args) out += `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`;
  return Buffer.from(out);
}

/** Decodes the reply at `offset`, or returns undefined while the buffer holds only part of it. */
export function decodeReply(buffer: Buffer, offset = 0): DecodedReply | undefined {
  const lineEnd = buffer.indexOf('\r\n', offset);
  if (lineEnd === -1) return undefined;
  const type = String.fromCharCode(buffer[offset] as number);
  const line = buffer.toString('utf8', offset + 1, lineEnd);
  const afterLine = lineEnd + 2;
  switch (type) {
    case '+':
      return { value: line, next: afterLine };
    case '-':
      return { value: new RespReplyError(line), next: afterLine };
    case ':':
      return { value: Number(line), next: afterLine };
    case '$': {
      const length = Number(line);
      if (length < 0) return { value: null, next: afterLine };
      const end = afterLine + length;
      if (buffer.length < end + 2) return undefined;
      return { value: buffer.toString('utf8', afterLine, end), next: end + 2 };
    }
    case '*': {
      const count = Number(line);
      if (count < 0) return { value: null, next: afterLine };
      const items: RespReply[] = [];
      let next = afterLine;
      for (let i = 0; i < count; i++) {
        const item = decodeReply(buffer, next);
        if (!item) return undefined;
        items.push(item.value);
        next = item.next;
      }
      return { value: items, next };
    }
    default:
      throw new Error(`unsupported RESP reply type ${JSON.stringify(type)}`);
  }
}

/** Renders a reply like `redis-cli --raw`: array items on separate lines, nil as an empty string. */
export function formatReplyRaw(reply: RespReply): string {
  if (Array.isArray(reply)) return reply.map(formatReplyRaw).join('\n');
  if (reply === null) return '';
  if (reply instanceof RespReplyError) return reply.message;
  return String(reply);
}
