import { ConfigError } from './config.error';

/**
 * Starts a process on the configuration read from its environment, the one way every Rescind
 * process starts: an invalid configuration exits 2 with its problems, a failure to start exits 1
 * with its stack, both on stderr behind the process's name.
 * @param name the process's name in those messages, e.g. `rescind api`
 * @param load reads and validates the configuration, throwing a {@link ConfigError}
 * @param main starts the process; it resolves once the process is up
 */
export function runWithConfig<C>(
  name: string,
  load: (env: NodeJS.ProcessEnv) => C,
  main: (config: C) => Promise<void>,
): void {
  let config: C;
  try {
    config = load(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${name}: ${error.message}\n`);
    process.exit(2);
  }
  main(config).catch((error: unknown) => {
    process.stderr.write(
      `${name}: failed to start: ${error instanceof Error ? error.stack : String(error)}\n`,
    );
    process.exit(1);
  });
}
