import { claimsOf, type RedisServer } from '@rescind/testing';

/** A revocation event as replicas receive it (`data` of the channel message). */
export interface ForgedEvent {
  readonly v: 1;
  readonly epoch: string;
  readonly seq: number;
  readonly logId: string;
  readonly kind: 'token';
  readonly id: string;
  readonly expiresAtMs: number;
  readonly createdAtMs: number;
}

// The write half of the product's revoke script (record, index, seq, log), without the PUBLISH:
// an event that is in the log but was never fanned out, or is fanned out later by the test.
const APPEND_SCRIPT = `
local ttl = tonumber(ARGV[3]) - tonumber(ARGV[4])
local epoch = redis.call('GET', KEYS[5])
redis.call('SET', KEYS[1], ARGV[2], 'PX', ttl)
redis.call('ZADD', KEYS[2], 'GT', ARGV[3], ARGV[1])
local seq = redis.call('INCR', KEYS[4])
local id = redis.call('XADD', KEYS[3], '*', 'e',
  '{"v":1,"epoch":"' .. epoch .. '","seq":' .. seq .. ',' .. ARGV[5] .. '}')
return {epoch, seq, id}
`;

/**
 * Writes and publishes revocation events by hand, with a raw Redis connection, to deliver them
 * twice, out of order, with a gap, far ahead, or malformed.
 */
export class EventForger {
  constructor(
    private readonly redis: RedisServer,
    private readonly prefix: string,
  ) {}

  /** The revocation channel. */
  get channel(): string {
    return `${this.prefix}:rev:events`;
  }

  /** Logs a revocation of `token` (record, index, next sequence number, stream entry) without publishing it. */
  async append(token: string): Promise<ForgedEvent> {
    const claims = claimsOf(token);
    const id = claims['jti'] as string;
    const expiresAtMs = (claims['exp'] as number) * 1000;
    const createdAtMs = Date.now();
    const fields = JSON.stringify({ kind: 'token', id, expiresAtMs, createdAtMs }).slice(1, -1);
    const key = (name: string): string => `${this.prefix}:rev:${name}`;
    const [epoch, seq, logId] = (await this.redis.command(
      'EVAL',
      APPEND_SCRIPT,
      '5',
      key(`t:${id}`),
      key('index'),
      key('log'),
      key('seq'),
      key('epoch'),
      `t:${id}`,
      JSON.stringify({ kind: 'token', id, expiresAtMs, createdAtMs, reason: 'forged' }),
      String(expiresAtMs),
      String(createdAtMs),
      fields,
    )) as [string, number, string];
    return { v: 1, epoch, seq: Number(seq), logId, kind: 'token', id, expiresAtMs, createdAtMs };
  }

  /** The events logged after `afterSeq` (all when 0), read back from the stream. */
  async logged(afterSeq = 0): Promise<ForgedEvent[]> {
    const reply = (await this.redis.command('XRANGE', `${this.prefix}:rev:log`, '-', '+')) as [
      string,
      string[],
    ][];
    return reply
      .map(([logId, fields]) => ({
        ...(JSON.parse(fields[1] as string) as Omit<ForgedEvent, 'logId'>),
        logId,
      }))
      .filter((event) => event.seq > afterSeq);
  }

  /** The channel message carrying `event`, as the product publishes it. */
  message(event: object): string {
    return JSON.stringify({ pattern: this.channel, data: event });
  }

  /** Publishes a raw message on the revocation channel; resolves with the number of receivers. */
  async publish(message: string): Promise<number> {
    return Number(await this.redis.command('PUBLISH', this.channel, message));
  }
}
