import { type Redis } from 'ioredis';

/** The fields of `INFO` that the simulation attributes to a run. */
export interface RedisSample {
  readonly atMs: number;
  /** used_cpu_sys + used_cpu_user, in seconds. */
  readonly cpuSeconds: number;
  readonly netOutputBytes: number;
  readonly netInputBytes: number;
  readonly usedMemoryBytes: number;
  readonly connectedClients: number;
  readonly recentMaxOutputBuffer: number;
  readonly commandsProcessed: number;
}

/** `INFO` text as name → value. */
export function parseInfo(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0 && !line.startsWith('#')) fields.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return fields;
}

export async function sampleRedis(redis: Redis): Promise<RedisSample> {
  const info = parseInfo(await redis.info('everything'));
  const number = (name: string): number => {
    const value = Number(info.get(name));
    if (!Number.isFinite(value)) throw new Error(`INFO has no numeric ${name}`);
    return value;
  };
  return {
    atMs: performance.now(),
    cpuSeconds: number('used_cpu_sys') + number('used_cpu_user'),
    netOutputBytes: number('total_net_output_bytes'),
    netInputBytes: number('total_net_input_bytes'),
    usedMemoryBytes: number('used_memory'),
    connectedClients: number('connected_clients'),
    recentMaxOutputBuffer: number('client_recent_max_output_buffer'),
    commandsProcessed: number('total_commands_processed'),
  };
}

/** What Redis did between two samples. */
export interface RedisUsage {
  readonly seconds: number;
  /** CPU seconds Redis used. */
  readonly cpuSeconds: number;
  /** Cores' worth of CPU: cpuSeconds / seconds. */
  readonly cores: number;
  readonly netOutputBytes: number;
  readonly commands: number;
}

export function usageBetween(before: RedisSample, after: RedisSample): RedisUsage {
  const seconds = (after.atMs - before.atMs) / 1000;
  const cpuSeconds = after.cpuSeconds - before.cpuSeconds;
  return {
    seconds,
    cpuSeconds,
    cores: seconds > 0 ? cpuSeconds / seconds : 0,
    netOutputBytes: after.netOutputBytes - before.netOutputBytes,
    commands: after.commandsProcessed - before.commandsProcessed,
  };
}

/**
 * The pub/sub output-buffer limits (`CONFIG GET client-output-buffer-limit`): hard bytes, soft
 * bytes and soft seconds of the `pubsub` class.
 */
export async function pubsubBufferLimit(
  redis: Redis,
): Promise<{ hardBytes: number; softBytes: number; softSeconds: number }> {
  const [, value = ''] = (await redis.config('GET', 'client-output-buffer-limit')) as string[];
  const words = value.split(/\s+/);
  const at = words.indexOf('pubsub');
  if (at < 0) throw new Error(`no pubsub class in client-output-buffer-limit "${value}"`);
  return {
    hardBytes: Number(words[at + 1]),
    softBytes: Number(words[at + 2]),
    softSeconds: Number(words[at + 3]),
  };
}

/**
 * Samples `INFO clients` every `periodMs` and keeps the largest output buffer seen
 * (`client_recent_max_output_buffer`, the largest over all clients in the last seconds) and,
 * less often, the largest `omem` of a pub/sub client in `CLIENT LIST`.
 */
export class OutputBufferWatch {
  private timer: NodeJS.Timeout | undefined;
  private ticks = 0;
  peakRecentMax = 0;
  peakPubsubOmem = 0;

  constructor(
    private readonly redis: Redis,
    private readonly periodMs = 200,
  ) {}

  start(): void {
    const tick = async (): Promise<void> => {
      try {
        const info = parseInfo(await this.redis.info('clients'));
        this.peakRecentMax = Math.max(
          this.peakRecentMax,
          Number(info.get('client_recent_max_output_buffer') ?? 0),
        );
        if (this.ticks++ % 5 === 0) {
          const list = String(await this.redis.call('CLIENT', 'LIST', 'TYPE', 'pubsub'));
          for (const match of list.matchAll(/ omem=(\d+)/g)) {
            this.peakPubsubOmem = Math.max(this.peakPubsubOmem, Number(match[1]));
          }
        }
      } catch {
        // a sample lost under load is only a sample
      }
      if (this.timer !== undefined) this.timer = setTimeout(() => void tick(), this.periodMs);
    };
    this.timer = setTimeout(() => void tick(), 0);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
