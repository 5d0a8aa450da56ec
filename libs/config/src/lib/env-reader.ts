import { readFileSync } from 'node:fs';

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

  /**
   * A secret from `name`, or from the file that `name_FILE` names (Docker and Kubernetes secrets),
   * with one trailing newline trimmed; `undefined` when neither is set. Both set, an unreadable
   * file or an empty one is a problem naming the variables and the path, never the secret.
   */
  secret(name: string): string | undefined {
    const fileVariable = `${name}_FILE`;
    const value = this.optional(name);
    const file = this.optional(fileVariable);
    if (file === undefined) return value;
    if (value !== undefined) {
      this.problems.push(`${name} and ${fileVariable} are both set; set only one`);
      return undefined;
    }
    let contents: string;
    try {
      contents = readFileSync(file, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'error';
      this.problems.push(`${fileVariable}: cannot read ${name} from "${file}" (${code})`);
      return undefined;
    }
    // Editors and `echo` end files with a newline that is not part of the secret.
    const secret = contents.replace(/\r?\n$/, '');
    if (secret === '') {
      this.problems.push(`${fileVariable}: "${file}" is empty`);
      return undefined;
    }
    return secret;
  }

  /** Records a problem found by a cross-field rule. */
  fail(problem: string): void {
    this.problems.push(problem);
  }
}
