/** Environment variables as read from `process.env`. */
export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Reads variables with defaults, collecting every problem instead of stopping at the first, so
 * that one start-up reports all that is wrong.
 */
export class EnvReader {
  readonly problems: string[] = [];

  constructor(private readonly env: Env) {}

  /** A string, or the default when unset or empty. */
  string(name: string, fallback: string): string {
    const value = this.env[name];
    return value === undefined || value === '' ? fallback : value;
  }

  /** An optional string: `undefined` when unset or empty. */
  optional(name: string): string | undefined {
    const value = this.env[name];
    return value === undefined || value === '' ? undefined : value;
  }

  /** An integer within `[min, max]`. */
  integer(name: string, fallback: number, min: number, max: number): number {
    const raw = this.env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw.trim());
    if (!/^-?\d+$/.test(raw.trim()) || !Number.isSafeInteger(value) || value < min || value > max) {
      this.problems.push(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
      return fallback;
    }
    return value;
  }

  /** One of a fixed set of words. */
  oneOf<T extends string>(name: string, fallback: T, allowed: readonly T[]): T {
    const raw = this.env[name];
    if (raw === undefined || raw === '') return fallback;
    if (!(allowed as readonly string[]).includes(raw)) {
      this.problems.push(`${name} must be one of ${allowed.join(', ')}, got "${raw}"`);
      return fallback;
    }
    return raw as T;
  }

  /** A string that must match `pattern`, described by `what` in the error. */
  matching(name: string, fallback: string, pattern: RegExp, what: string): string {
    const value = this.string(name, fallback);
    if (!pattern.test(value)) this.problems.push(`${name} must be ${what}, got "${value}"`);
    return value;
  }

  /** Records a problem found by a cross-field rule. */
  fail(problem: string): void {
    this.problems.push(problem);
  }
}
