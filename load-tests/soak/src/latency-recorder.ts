/** Response times of one kind of request, kept whole for exact percentiles. */
export class LatencyRecorder {
  private samples = new Float64Array(1 << 16);
  private length = 0;

  /** Adds one response time, in ms. */
  push(ms: number): void {
    if (this.length === this.samples.length) {
      const grown = new Float64Array(this.samples.length * 2);
      grown.set(this.samples);
      this.samples = grown;
    }
    this.samples[this.length++] = ms;
  }

  /** Samples so far. */
  get count(): number {
    return this.length;
  }

  /** Nearest-rank percentiles (`p` in 0–100) and the maximum, in ms; NaN when empty. */
  summary(): { p50: number; p99: number; max: number } {
    const sorted = this.samples.slice(0, this.length).sort();
    const at = (p: number): number =>
      sorted.length === 0
        ? Number.NaN
        : (sorted[
            Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1
          ] as number);
    return {
      p50: at(50),
      p99: at(99),
      max: sorted.length === 0 ? Number.NaN : (sorted[sorted.length - 1] as number),
    };
  }
}
