/**
 * Background loops that run from {@link start} until {@link stop}, one per item (a replica, a
 * Redis node, …): each loop checks {@link active} between its steps, and stop() waits for every
 * loop to finish the step in flight. Monitors, traffic lanes and watches are built on it.
 */
export class Loops<T = void> {
  private running = false;
  private loops: Promise<T>[] = [];

  /** Whether the loops should go on. */
  get active(): boolean {
    return this.running;
  }

  /** Starts `loop` once per item. */
  start<I>(items: readonly I[], loop: (item: I, index: number) => Promise<T>): void {
    this.running = true;
    this.loops = items.map((item, index) => loop(item, index));
  }

  /** Tells the loops to end and resolves with what each returned, in item order. */
  async stop(): Promise<T[]> {
    this.running = false;
    return Promise.all(this.loops);
  }
}
