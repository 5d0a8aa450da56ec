import { EventCodec, RedisKeys, WIRE_VERSION } from '@rescind/revocation-redis';
import { claimsOf, type RedisServer } from '@rescind/testing';

/** A revocation event as replicas receive it, with the wire format's version. */
export interface ForgedEvent {
  readonly v: number;
  readonly epoch: string;
  readonly seq: number;
  readonly logId: string;
  readonly prevLogId?: string;
  readonly kind: 'token';
  readonly id: string;
  readonly expiresAtMs: number;
  readonly createdAtMs: number;
}

// The write half of the product's revoke script (record, index, seq, log), without the PUBLISH:
// an event that is in the log but was never fanned out, or is fanned out later by the test. The
// entry's fields come from the product's event codec; like an event of builds before `prevLogId`,
// it names no predecessor.
//   KEYS: record, index, log, seq, epoch
//   ARGV: member, record JSON, expiresAtMs, nowMs, epoch field, seq field, revocation fields…
const APPEND_SCRIPT = `
local ttl = tonumber(ARGV[3]) - tonumber(ARGV[4])
local epoch = redis.call('GET', KEYS[5])
redis.call('SET', KEYS[1], ARGV[2], 'PX', ttl)
redis.call('ZADD', KEYS[2], 'GT', ARGV[3], ARGV[1])
local seq = redis.call('INCR', KEYS[4])
local fields = {}
for i = 7, #ARGV do fields[#fields + 1] = ARGV[i] end
fields[#fields + 1] = ARGV[5]
fields[#fields + 1] = epoch
fields[#fields + 1] = ARGV[6]
fields[#fields + 1] = string.format('%d', seq)
local id = redis.call('XADD', KEYS[3], '*', unpack(fields))
return {epoch, seq, id}
`;

/**
 * Writes and publishes revocation events by hand, with a raw Redis connection, to deliver them
 * twice, out of order, with a gap, far ahead, or malformed.
 */
export class EventForger {
  private readonly keys: RedisKeys;

  constructor(
    private readonly redis: RedisServer,
    prefix: string,
  ) {
    this.keys = new RedisKeys(prefix);
  }

  /** The revocation channel. */
  get channel(): string {
    return this.keys.channel;
  }

  /** Logs a revocation of `token` (record, index, next sequence number, stream entry) without publishing it. */
  async append(token: string): Promise<ForgedEvent> {
    const claims = claimsOf(token);
    const id = claims['jti'] as string;
    const expiresAtMs = (claims['exp'] as number) * 1000;
    const createdAtMs = Date.now();
    const revocation = { kind: 'token', id, expiresAtMs, createdAtMs } as const;
    const { position, fields } = EventCodec.revokeArguments(revocation);
    const [epoch, seq, logId] = (await this.redis.command(
      'EVAL',
      APPEND_SCRIPT,
      '5',
      this.keys.record('token', id),
      this.keys.index,
      this.keys.log,
      this.keys.seq,
      this.keys.epoch,
      this.keys.member('token', id),
      EventCodec.record({ ...revocation, reason: 'forged' }),
      String(expiresAtMs),
      String(createdAtMs),
      position[0],
      position[1],
      ...fields,
    )) as [string, number, string];
    return { v: WIRE_VERSION, epoch, seq: Number(seq), logId, ...revocation };
  }

  /** The events logged after `afterSeq` (all when 0), read back from the stream. */
  async logged(afterSeq = 0): Promise<ForgedEvent[]> {
    const reply = (await this.redis.command('XRANGE', this.keys.log, '-', '+')) as [
      string,
      string[],
    ][];
    const events: ForgedEvent[] = [];
    for (const [logId, fields] of reply) {
      const entry = EventCodec.logEntry(logId, fields);
      if (entry.kind === 'unreadable' || entry.seq <= afterSeq) continue;
      // Users' cut-offs come along too; callers pick what they need.
      events.push({ ...(entry as Omit<ForgedEvent, 'v'>), v: WIRE_VERSION });
    }
    return events;
  }

  /** The channel message carrying `event`, as the product publishes it. */
  message(event: ForgedEvent): string {
    return EventCodec.message(event);
  }

  /** Publishes a raw message on the revocation channel; resolves with the number of receivers. */
  async publish(message: string): Promise<number> {
    return Number(await this.redis.command('PUBLISH', this.channel, message));
  }
}
