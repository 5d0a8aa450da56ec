import { type Milliseconds } from '@rescind/revocation-core';
import { type EventOwner } from './event-queue';
import { DrawKind, type Network } from './network';

/** Who owns a connection: a replica process, named for keyed draws. */
export interface ConnectionOwner extends EventOwner {
  readonly slot: number;
  readonly incarnation: number;
}

/** ioredis's error for a command on a connection that is not open (no offline queue). */
export class ConnectionClosedError extends Error {
  override readonly name = 'ConnectionClosedError';
  constructor() {
    super('Connection is closed.');
  }
}

/** One instance serves every failure: building an error's stack trace each time is costly. */
const CONNECTION_CLOSED = new ConnectionClosedError();

interface InFlight {
  reject(error: unknown): void;
}

/**
 * One client connection to Redis: FIFO requests and replies with bounded, keyed latencies;
 * killed by faults, when every reply still in flight is lost (the call fails, though Redis may
 * have run it); reconnecting with the back-off of revocation-redis's `reconnectDelay`.
 */
export class SimConnection {
  /** Whether commands can be sent (ioredis `ready`; no offline queue, as `createCommandClient`). */
  connected = false;
  private generation = 0;
  private attempt = 0;
  private lastRequestAt: Milliseconds = -Infinity;
  private lastReplyAt: Milliseconds = -Infinity;
  private draws = 0;
  private readonly inFlight = new Set<InFlight>();

  constructor(
    private readonly net: Network,
    private readonly owner: ConnectionOwner,
    private readonly channel: number,
    private readonly onReady: () => void,
  ) {}

  /** Opens the connection (first attempt after one latency). */
  connect(): void {
    this.scheduleAttempt(this.latency(DrawKind.Connect));
  }

  /**
   * Sends a command. It runs at the server when the request arrives (if the connection still
   * stands); the reply, or the error Redis answered, arrives later.
   */
  call<T>(name: string, command: () => T): Promise<T> {
    if (!this.connected) return Promise.reject(CONNECTION_CLOSED);
    const generation = this.generation;
    return new Promise<T>((resolve, reject) => {
      const entry: InFlight = { reject };
      this.inFlight.add(entry);
      const requestAt = Math.max(this.net.now + this.latency(DrawKind.Request), this.lastRequestAt);
      this.lastRequestAt = requestAt;
      // The server runs it: no promise job starts there, so nothing needs settling after it.
      this.net.at(
        requestAt,
        null,
        () => {
          if (this.generation !== generation) return;
          let ok = true;
          let result: unknown;
          try {
            result = command();
          } catch (error) {
            ok = false;
            result = error;
          }
          if (this.net.tracing) {
            const { slot, incarnation } = this.owner;
            this.net.trace(
              `r${slot}#${incarnation} ${name} -> ${ok ? brief(result) : String(result)}`,
            );
          }
          const replyAt = Math.max(this.net.now + this.latency(DrawKind.Reply), this.lastReplyAt);
          this.lastReplyAt = replyAt;
          this.net.at(replyAt, this.owner, () => {
            if (this.generation !== generation) return;
            this.inFlight.delete(entry);
            if (ok) resolve(result as T);
            else reject(result);
          });
        },
        false,
      );
    });
  }

  /**
   * The connection dies (killed, or the server went away): requests not yet delivered are
   * dropped, every call in flight fails, and (unless the process is gone) it reconnects.
   */
  kill(reconnect: boolean, onClose?: () => void): void {
    this.generation++;
    const wasConnected = this.connected;
    this.connected = false;
    this.lastRequestAt = -Infinity;
    this.lastReplyAt = -Infinity;
    const lost = [...this.inFlight];
    this.inFlight.clear();
    if (!reconnect) return;
    this.net.at(this.net.now, this.owner, () => {
      for (const entry of lost) entry.reject(CONNECTION_CLOSED);
      if (wasConnected) onClose?.();
    });
    this.attempt = 1;
    this.scheduleAttempt(reconnectDelay(this.attempt));
  }

  /** A latency in [0, max] ms, mostly small (the square of a uniform draw). */
  latency(kind: DrawKind): Milliseconds {
    const u = this.net.draw(
      this.owner.slot,
      this.owner.incarnation,
      kind * 16 + this.channel,
      this.draws++,
    );
    return Math.floor(u * u * (this.net.config.storeLatencyMaxMs + 1));
  }

  private scheduleAttempt(delayMs: Milliseconds): void {
    const generation = this.generation;
    this.net.at(this.net.now + delayMs, this.owner, () => {
      if (this.generation !== generation || this.connected) return;
      if (this.net.storeUp) {
        this.connected = true;
        this.attempt = 0;
        this.onReady();
        return;
      }
      this.attempt++;
      this.scheduleAttempt(reconnectDelay(this.attempt));
    });
  }
}

function brief(value: unknown): string {
  const text = JSON.stringify(value) ?? 'undefined';
  return text.length > 160 ? `${text.slice(0, 160)}…` : text;
}

/**
 * revocation-redis's `reconnectDelay`: 10 ms, then doubling from 100 ms to one second, the same
 * for every replica. Drawn (jittered) delays make seeds fail with `accepted-after-quiet`, which is
 * why the product does not jitter (README.md, "Limits of the model").
 */
export function reconnectDelay(attempt: number): Milliseconds {
  return attempt <= 1 ? 10 : Math.min(25 * 2 ** Math.min(attempt, 6), 1000);
}
