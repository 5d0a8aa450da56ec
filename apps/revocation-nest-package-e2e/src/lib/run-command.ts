import { execFile } from 'node:child_process';

/** Options for {@link runCommand}. */
export interface RunCommandOptions {
  cwd: string;
  /** Kill the command and fail after this long. */
  timeoutMs: number;
  /** Variables set for the command on top of this process's environment. */
  env?: Record<string, string | undefined>;
}

/** Output tail kept in error messages. */
const TAIL_CHARS = 4_000;

/** Runs a command to completion and resolves with its stdout; rejects with its output tail. */
export function runCommand(
  command: string,
  args: readonly string[],
  options: RunCommandOptions,
): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      {
        cwd: options.cwd,
        env: { ...process.env, ...options.env },
        timeout: options.timeoutMs,
        maxBuffer: 64 * 1024 * 1024,
        encoding: 'utf8',
      },
      (error, stdout, stderr) => {
        if (error === null) return resolve(stdout);
        const why = error.killed ? `killed after ${options.timeoutMs} ms` : `exit ${error.code}`;
        const output = `${stdout}\n${stderr}`.trim().slice(-TAIL_CHARS);
        const shown = [command, ...args].join(' ');
        reject(new Error(`\`${shown}\` in ${options.cwd} failed (${why}):\n${output}`));
      },
    );
  });
}
