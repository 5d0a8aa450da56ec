import * as fs from 'node:fs';
import { once } from 'node:events';
import { type HistoryEntry } from './history-entry';

/** Appends history entries to a file, one JSON object per line, in the order they happen. */
export class HistoryLog {
  private readonly stream: fs.WriteStream;
  private lines = 0;
  private failure: Error | undefined;

  private constructor(readonly path: string) {
    this.stream = fs.createWriteStream(path, { flags: 'w' });
    // A failed write (disk full) must not crash the run in the middle of a fault; close() reports it.
    this.stream.on('error', (error) => (this.failure ??= error));
  }

  /** Creates (or truncates) the file. */
  static open(path: string): HistoryLog {
    return new HistoryLog(path);
  }

  /** Entries written so far. */
  get count(): number {
    return this.lines;
  }

  /** Writes one entry (buffered: a slow disk never holds up the clients). */
  append(entry: HistoryEntry): void {
    this.lines += 1;
    this.stream.write(`${JSON.stringify(entry)}\n`);
  }

  /** Flushes and closes the file; rejects if any write failed. */
  async close(): Promise<void> {
    if (!this.stream.closed) {
      this.stream.end();
      await once(this.stream, 'close');
    }
    if (this.failure !== undefined) {
      throw new Error(`could not write the history to ${this.path}: ${this.failure.message}`);
    }
  }
}
