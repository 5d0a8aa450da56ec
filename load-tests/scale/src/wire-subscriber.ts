import { connect, type Socket } from 'node:net';
import { encodeCommand } from '@rescind/testing';

/** What a wire subscriber reports of each message: the revocation's id and creation time. */
export interface WireRecorder {
  onMessage(id: string, createdAtMs: number): void;
  /** Redis confirmed the subscription. */
  onSubscribed?(): void;
}

const ID_FIELD = '"id":"';
const CREATED_FIELD = '"createdAtMs":"';

/**
 * Reads the pub/sub messages out of the RESP 2 a subscribed connection receives, just enough to
 * find each revocation's `id` and `createdAtMs` (load-tests/scale/README.md, "Wire subscribers").
 * Bytes are kept as latin1 text, one character per byte, so that bulk lengths index it directly.
 * The SUBSCRIBE confirmation is reported; anything else is skipped whole.
 */
export class RespMessageReader {
  private pending = '';

  constructor(private readonly recorder: WireRecorder) {}

  /** Feeds the next bytes read from the socket. */
  push(chunk: Buffer): void {
    const text =
      this.pending === '' ? chunk.toString('latin1') : this.pending + chunk.toString('latin1');
    let at = 0;
    for (;;) {
      const next = this.readPush(text, at);
      if (next < 0) break;
      at = next;
    }
    this.pending = at === text.length ? '' : text.slice(at);
  }

  /**
   * Reads one array reply (`*<n>` then n bulk strings) at `at`; reports it if it is a message.
   * @returns where the next reply starts, or -1 when this one is not complete yet
   */
  private readPush(text: string, at: number): number {
    if (at >= text.length) return -1;
    if (text.charCodeAt(at) !== 0x2a /* '*' */) {
      throw new Error(`unexpected RESP reply ${JSON.stringify(text.slice(at, at + 40))}`);
    }
    const headerEnd = text.indexOf('\r\n', at);
    if (headerEnd < 0) return -1;
    const count = Number(text.slice(at + 1, headerEnd));
    let cursor = headerEnd + 2;
    let kind = '';
    let payloadStart = -1;
    let payloadEnd = -1;
    for (let i = 0; i < count; i++) {
      if (cursor >= text.length) return -1;
      const lineEnd = text.indexOf('\r\n', cursor);
      if (lineEnd < 0) return -1;
      const type = text.charCodeAt(cursor);
      if (type === 0x3a /* ':' integer */) {
        cursor = lineEnd + 2;
        continue;
      }
      const length = Number(text.slice(cursor + 1, lineEnd));
      const start = lineEnd + 2;
      const end = start + length;
      if (end + 2 > text.length) return -1;
      if (i === 0) kind = text.slice(start, end);
      if (i === 2) {
        payloadStart = start;
        payloadEnd = end;
      }
      cursor = end + 2;
    }
    if (kind === 'message' && payloadStart >= 0) this.report(text, payloadStart, payloadEnd);
    else if (kind === 'subscribe') this.recorder.onSubscribed?.();
    return cursor;
  }

  private report(text: string, start: number, end: number): void {
    const idAt = text.indexOf(ID_FIELD, start);
    const createdAt = text.indexOf(CREATED_FIELD, start);
    if (idAt < 0 || idAt >= end || createdAt < 0 || createdAt >= end) return;
    const idStart = idAt + ID_FIELD.length;
    const createdStart = createdAt + CREATED_FIELD.length;
    const id = text.slice(idStart, text.indexOf('"', idStart));
    const createdAtMs = Number(text.slice(createdStart, text.indexOf('"', createdStart)));
    this.recorder.onMessage(id, createdAtMs);
  }
}

/**
 * A light stand-in for a replica: one plain TCP connection that subscribes to the revocation
 * channel and reports each message's arrival, nothing else (no cache, no synchroniser, no
 * catch-up, no reconnection). Redis serves it exactly as a replica's subscriber connection; the
 * simulator spends a fraction of a full replica's CPU on it (load-tests/scale/README.md, "Wire
 * subscribers").
 */
export class WireSubscriber {
  private socket: Socket | undefined;
  private readonly reader: RespMessageReader;
  subscribed = false;
  closes = 0;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly channel: string,
    recorder: WireRecorder,
  ) {
    this.reader = new RespMessageReader({
      onMessage: (id, createdAtMs) => recorder.onMessage(id, createdAtMs),
      onSubscribed: () => (this.subscribed = true),
    });
  }

  start(): void {
    const socket = connect({ host: this.host, port: this.port, noDelay: true });
    this.socket = socket;
    socket.on('connect', () => socket.write(encodeCommand(['SUBSCRIBE', this.channel])));
    socket.on('data', (chunk: Buffer) => this.reader.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.subscribed = false;
      this.closes++;
    });
  }

  stop(): Promise<void> {
    const socket = this.socket;
    if (socket === undefined || socket.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      socket.once('close', () => resolve());
      socket.destroy();
    });
  }
}
