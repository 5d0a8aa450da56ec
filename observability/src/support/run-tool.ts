import { execFile } from 'node:child_process';

/** How a tool run ended: its exit code and its output, stdout then stderr. */
export interface ToolRun {
  code: number;
  output: string;
}

/** Runs `command` to completion (at most `timeoutMs`) and captures what it printed. */
export function runTool(
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<ToolRun> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      {
        cwd: options.cwd,
        env: { ...process.env, ...options.env },
        timeout: options.timeoutMs ?? 60_000,
        maxBuffer: 16 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ code, output: `${stdout}${stderr}` });
      },
    );
  });
}

/** Fails with the tool's own output unless it exited with 0. */
export function expectSuccess(run: ToolRun, what: string): void {
  if (run.code !== 0) throw new Error(`${what} exited with ${run.code}:\n${run.output}`);
}
