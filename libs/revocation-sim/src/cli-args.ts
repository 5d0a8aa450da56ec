import { readFileSync } from 'node:fs';

/** The options both command lines of the simulation take (`main.ts`, `region-cli.ts`). */
export interface CommonArgs {
  schedules: number;
  seed: number;
  stopOnFailure: boolean;
  shrink: boolean;
  trace: boolean;
  replay?: string;
}

/**
 * Reads `argv` into `args`: the flags both command lines share here, any other through `other`,
 * which answers false for a flag it does not know.
 * @throws Error for a flag without its value, an unknown flag (`unknown` words it), or a count
 *   or seed that is not a whole number
 */
export function parseCommonArgs<T extends CommonArgs>(
  argv: readonly string[],
  args: T,
  other: (flag: string, value: () => string) => boolean,
  unknown: (flag: string) => string,
): T {
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i] as string;
    const value = (): string => {
      const next = argv[++i];
      if (next === undefined) throw new Error(`${flag} needs a value`);
      return next;
    };
    switch (flag) {
      case '--schedules':
        args.schedules = Number(value());
        break;
      case '--seed':
        args.seed = Number(value());
        break;
      case '--stop-on-failure':
        args.stopOnFailure = true;
        break;
      case '--no-shrink':
        args.shrink = false;
        break;
      case '--trace':
        args.trace = true;
        break;
      case '--replay':
        args.replay = value();
        break;
      default:
        if (!other(flag, value)) throw new Error(unknown(flag));
    }
  }
  for (const [name, n] of Object.entries({ schedules: args.schedules, seed: args.seed })) {
    if (!Number.isSafeInteger(n) || n < 0) throw new Error(`--${name} must be a whole number`);
  }
  return args;
}

/** The schedule `--replay` names: JSON given inline, or the path of a file holding it. */
export function readReplay(replay: string): unknown {
  return JSON.parse(replay.trim().startsWith('{') ? replay : readFileSync(replay, 'utf8'));
}

/** One line on standard output. */
export function say(line = ''): void {
  process.stdout.write(`${line}\n`);
}
