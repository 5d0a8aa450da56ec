import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { HarnessError } from './harness.error';
import { OutputTail } from './output-tail';
import { describeExit, type ProcessExit } from './process-exit';

/** Options for {@link ManagedProcess.spawn}. */
export interface ManagedProcessOptions {
  /** Label for echoed output and error messages. @default the command's base name */
  name?: string;
  /** Variables set for the child; `undefined` removes an inherited one. */
  env?: Record<string, string | undefined>;
  /** Start from a copy of this process's environment. @default true */
  inheritEnv?: boolean;
  /** Working directory. @default this process's */
  cwd?: string;
  /** Copy every output line to this process's stdout/stderr, prefixed with `[name]`. @default false */
  echo?: boolean;
  /** Own process group, so a terminal's Ctrl-C reaches only the parent, which stops children in order. @default false */
  detached?: boolean;
  /** Output lines kept for error messages. @default 200 */
  tailLines?: number;
  /**
   * Append stdout to this file instead of capturing it (stderr is still captured): for output
   * too voluminous to read through a pipe without slowing this process, e.g. a benchmarked
   * replica's access log. Lines written there are not seen by {@link ManagedProcess.waitForLine}.
   */
  stdoutFile?: string;
}

/** Wait before closing the pipes of an exited child whose grandchildren still hold them. */
const PIPE_DRAIN_MS = 1_000;

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

// Never leave children behind when the parent exits without stopping them (a crash, a failed test).
function track(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const orphan of live) orphan.kill('SIGKILL');
  });
}

/** A child process with captured output, line waits and bounded stop. */
export class ManagedProcess {
  /** Resolves once the process has exited and its output has been read. */
  readonly exited: Promise<ProcessExit>;
  private exit: ProcessExit | undefined;
  private readonly output: OutputTail;
  private readonly lineListeners = new Set<(line: string) => void>();

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
    options: ManagedProcessOptions,
  ) {
    this.output = new OutputTail(options.tailLines);
    this.exited = new Promise((resolve) => {
      child.once('close', (code: number | null, signal: NodeJS.Signals | null) =>
        resolve(this.exit ?? { code, signal }),
      );
    });
    child.once('exit', (code, signal) => {
      this.exit = { code, signal };
      setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
      }, PIPE_DRAIN_MS).unref();
    });
    this.readLines(child.stdout, options.echo ? process.stdout : undefined);
    this.readLines(child.stderr, options.echo ? process.stderr : undefined);
  }

  /** Starts `command` and resolves once it is running; rejects with `ERR_SPAWN` if it cannot start. */
  static async spawn(
    command: string,
    args: readonly string[] = [],
    options: ManagedProcessOptions = {},
  ): Promise<ManagedProcess> {
    const stdout = options.stdoutFile === undefined ? 'pipe' : openSync(options.stdoutFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(command, args, {
        cwd: options.cwd,
        env: buildEnv(options),
        stdio: ['ignore', stdout, 'pipe'],
        detached: options.detached ?? false,
      });
    } finally {
      // The child holds its own copy.
      if (typeof stdout === 'number') closeSync(stdout);
    }
    const managed = new ManagedProcess(options.name ?? path.basename(command), child, options);
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (error) =>
        reject(new HarnessError('ERR_SPAWN', `could not start ${command}: ${error.message}`)),
      );
    });
    // Later errors (a failed kill) must not crash the parent; exit is reported through `exited`.
    child.on('error', () => undefined);
    track(child);
    return managed;
  }

  /** Runs a Node.js script with the current `node` binary. */
  static spawnNode(
    script: string,
    options: ManagedProcessOptions & { args?: readonly string[] } = {},
  ): Promise<ManagedProcess> {
    return ManagedProcess.spawn(process.execPath, [script, ...(options.args ?? [])], {
      name: path.basename(script, path.extname(script)),
      ...options,
    });
  }

  /** Operating-system process id. */
  get pid(): number {
    return this.child.pid as number;
  }

  /** True until the process has exited. */
  get running(): boolean {
    return this.exit === undefined;
  }

  /** How the process ended, once it has. */
  get exitInfo(): ProcessExit | undefined {
    return this.exit;
  }

  /** The last captured output lines (stdout and stderr interleaved). */
  tail(): string {
    return this.output.toString();
  }

  /** Sends a signal without waiting, e.g. SIGSTOP/SIGCONT to freeze and thaw a replica. */
  signal(signal: NodeJS.Signals): boolean {
    return this.running && this.child.kill(signal);
  }

  /** Resolves with the match once a captured line (past or future) matches; rejects on exit or timeout. */
  waitForLine(pattern: RegExp, timeoutMs = 10_000): Promise<RegExpExecArray> {
    // A global or sticky regex keeps state between exec calls; match each line afresh.
    const matcher = new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, ''));
    for (const line of this.output.lines()) {
      const match = matcher.exec(line);
      if (match) return Promise.resolve(match);
    }
    return new Promise((resolve, reject) => {
      const settle = (error: Error | undefined, match?: RegExpExecArray): void => {
        clearTimeout(timer);
        this.lineListeners.delete(onLine);
        if (error) reject(error);
        else resolve(match as RegExpExecArray);
      };
      const onLine = (line: string): void => {
        const match = matcher.exec(line);
        if (match) settle(undefined, match);
      };
      const timer = setTimeout(
        () =>
          settle(
            new HarnessError(
              'ERR_WAIT_TIMEOUT',
              `${this.name}: no output line matched ${pattern} within ${timeoutMs} ms; last output:\n${this.tail()}`,
            ),
          ),
        timeoutMs,
      );
      this.lineListeners.add(onLine);
      void this.exited.then((exit) =>
        settle(
          new HarnessError(
            'ERR_PROCESS_EXITED',
            `${this.name} exited (${describeExit(exit)}) before printing a line matching ${pattern}; last output:\n${this.tail()}`,
          ),
        ),
      );
    });
  }

  /** Sends `signal`, waits for exit (SIGKILL after `timeoutMs`) and resolves with the exit code (null when a signal ended it). */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000): Promise<number | null> {
    if (this.running) {
      this.child.kill(signal);
      const escalation = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
      try {
        await this.exited;
      } finally {
        clearTimeout(escalation);
      }
    }
    return (await this.exited).code;
  }

  /** Kills the process with SIGKILL and waits for its exit. */
  kill(): Promise<ProcessExit> {
    if (this.running) this.child.kill('SIGKILL');
    return this.exited;
  }

  private readLines(stream: NodeJS.ReadableStream | null, echo?: NodeJS.WritableStream): void {
    if (!stream) return;
    const lines = readline.createInterface({ input: stream, crlfDelay: Infinity });
    lines.on('line', (line) => {
      this.output.push(line);
      echo?.write(`[${this.name}] ${line}\n`);
      for (const listener of this.lineListeners) listener(line);
    });
  }
}

/** Starts a Node.js script; shorthand for {@link ManagedProcess.spawnNode}. */
export function spawnNode(
  script: string,
  options: ManagedProcessOptions & { args?: readonly string[] } = {},
): Promise<ManagedProcess> {
  return ManagedProcess.spawnNode(script, options);
}

function buildEnv(options: ManagedProcessOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = options.inheritEnv === false ? {} : { ...process.env };
  for (const [key, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}
