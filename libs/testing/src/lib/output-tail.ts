/** Keeps the last `capacity` lines of a process's output for error messages. */
export class OutputTail {
  private readonly buffer: string[] = [];

  constructor(readonly capacity = 200) {}

  /** Appends a line, dropping the oldest once full. */
  push(line: string): void {
    this.buffer.push(line);
    if (this.buffer.length > this.capacity) this.buffer.shift();
  }

  /** The retained lines, oldest first. */
  lines(): readonly string[] {
    return this.buffer;
  }

  /** The retained lines joined with newlines. */
  toString(): string {
    return this.buffer.join('\n');
  }
}
