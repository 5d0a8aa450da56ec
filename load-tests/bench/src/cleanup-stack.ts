/**
 * Everything the run started, stopped in reverse order at the end, on an error, or on Ctrl-C /
 * SIGTERM, so that no redis-server or replica outlives the benchmark.
 */
export class CleanupStack {
  private readonly steps: { name: string; run: () => Promise<unknown> }[] = [];
  private running: Promise<void> | undefined;

  /** Registers a step; the returned function removes it (for processes stopped earlier). */
  add(name: string, run: () => Promise<unknown>): () => void {
    const step = { name, run };
    this.steps.push(step);
    return () => {
      const index = this.steps.indexOf(step);
      if (index >= 0) this.steps.splice(index, 1);
    };
  }

  /** Runs every step once, newest first; failures are reported, never thrown. */
  runAll(): Promise<void> {
    this.running ??= (async () => {
      for (const step of this.steps.splice(0).reverse()) {
        try {
          await step.run();
        } catch (error) {
          console.error(`cleanup of ${step.name} failed: ${String(error)}`);
        }
      }
    })();
    return this.running;
  }

  /** On SIGINT or SIGTERM: clean up, then exit 130 / 143. */
  installSignalHandlers(): void {
    const onSignal = (signal: NodeJS.Signals, code: number): void => {
      console.error(`\n${signal}: stopping every process the benchmark started…`);
      void this.runAll().finally(() => process.exit(code));
    };
    process.once('SIGINT', () => onSignal('SIGINT', 130));
    process.once('SIGTERM', () => onSignal('SIGTERM', 143));
  }
}
