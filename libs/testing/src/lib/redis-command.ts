import * as net from 'node:net';
import { HarnessError } from './harness.error';
import { decodeReply, encodeCommand, type RespReply } from './resp-codec';
import { RespReplyError } from './resp-reply.error';

/** Where to send a command: a `redis://[user:password@]host:port` URL or a loopback port. */
export type RedisTarget = string | number;

/** Options for {@link redisCommand}. */
export interface RedisCommandOptions {
  /** Give up when the whole exchange takes longer. @default 5000 */
  timeoutMs?: number;
}

interface Endpoint {
  host: string;
  port: number;
  auth?: string[];
}

/**
 * Sends one command over a fresh connection (after AUTH when the URL carries a password) and resolves
 * with its reply; an error reply rejects with {@link RespReplyError}.
 */
export async function redisCommand(
  target: RedisTarget,
  args: readonly string[],
  options: RedisCommandOptions = {},
): Promise<RespReply> {
  const endpoint = parseTarget(target);
  const commands = endpoint.auth ? [endpoint.auth, args] : [args];
  const replies = await exchange(endpoint, commands, options.timeoutMs ?? 5_000);
  for (const reply of replies) if (reply instanceof RespReplyError) throw reply;
  return replies[replies.length - 1] as RespReply;
}

function parseTarget(target: RedisTarget): Endpoint {
  if (typeof target === 'number') return { host: '127.0.0.1', port: target };
  const url = new URL(target);
  if (url.protocol !== 'redis:') {
    throw new HarnessError(
      'ERR_REDIS_CONNECTION',
      `only redis:// URLs are supported, got ${url.protocol}`,
    );
  }
  const password = decodeURIComponent(url.password);
  const username = decodeURIComponent(url.username);
  return {
    host: url.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
    port: Number(url.port || 6379),
    auth: password ? (username ? ['AUTH', username, password] : ['AUTH', password]) : undefined,
  };
}

function exchange(
  { host, port }: Endpoint,
  commands: ReadonlyArray<readonly string[]>,
  timeoutMs: number,
): Promise<RespReply[]> {
  return new Promise((resolve, reject) => {
    const replies: RespReply[] = [];
    let pending = Buffer.alloc(0);
    let settled = false;
    const socket = net.connect({ host, port });
    const settle = (error?: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(replies);
    };
    const fail = (why: string): void =>
      settle(new HarnessError('ERR_REDIS_CONNECTION', `redis ${host}:${port}: ${why}`));
    const timer = setTimeout(() => fail(`no reply within ${timeoutMs} ms`), timeoutMs);
    socket.setNoDelay(true);
    socket.once('connect', () => socket.write(Buffer.concat(commands.map(encodeCommand))));
    socket.on('data', (chunk) => {
      pending = Buffer.concat([pending, chunk]);
      try {
        while (replies.length < commands.length) {
          const decoded = decodeReply(pending);
          if (!decoded) return;
          replies.push(decoded.value);
          pending = pending.subarray(decoded.next);
        }
      } catch (error) {
        return fail((error as Error).message);
      }
      settle();
    });
    socket.once('error', (error) => fail(error.message));
    socket.once('close', () => fail('connection closed before the reply'));
  });
}
