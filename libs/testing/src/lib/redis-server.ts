import * as fs from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { findExecutable } from './find-executable';
import { freePort } from './free-port';
import { HarnessError } from './harness.error';
import { ManagedProcess } from './managed-process';
import { describeExit, type ProcessExit } from './process-exit';
import { redisCommand } from './redis-command';
import { formatReplyRaw, type RespReply } from './resp-codec';
import { waitFor } from './wait-for';

/** Options for {@link RedisServer.start}. */
export interface RedisServerOptions {
  /** Port to listen on (127.0.0.1 only). @default a free port */
  port?: number;
  /** Keep an append-only file so data survives {@link RedisServer.restart}. @default true */
  appendonly?: boolean;
  /** AOF fsync policy. @default 'everysec' */
  appendfsync?: 'always' | 'everysec' | 'no';
  /** Data directory, kept by {@link RedisServer.dispose}. @default a fresh temp dir, removed by dispose() */
  dir?: string;
  /** Further `redis-server` arguments, e.g. `['--maxmemory', '10mb']`. */
  extraArgs?: string[];
  /** How long to wait for the first PONG. @default 10000 */
  startTimeoutMs?: number;
  /** Echo the server log, prefixed with `[redis-PORT]`. @default false */
  echo?: boolean;
  /** Run in its own process group (see {@link ManagedProcessOptions.detached}). @default false */
  detached?: boolean;
}

const STOP_TIMEOUT_MS = 5_000;
const PORT_ATTEMPTS = 5;
const ownedDirs = new Set<string>();
let dirCleanupInstalled = false;

/** A private `redis-server` process on a loopback port, restartable on the same port and data. */
export class RedisServer {
  /** Set when the server exited without being asked to (a crash, `SHUTDOWN`, an external kill). */
  unexpectedExit: ProcessExit | undefined;
  private current: ManagedProcess | undefined;
  private stopRequested = false;

  private constructor(
    readonly port: number,
    readonly dir: string,
    private readonly ownsDir: boolean,
    private readonly options: RedisServerOptions,
  ) {}

  /** True when `redis-server` is on `PATH`. */
  static isAvailable(): boolean {
    return findExecutable('redis-server') !== undefined;
  }

  /** Starts a server and resolves once it answers PING. */
  static async start(options: RedisServerOptions = {}): Promise<RedisServer> {
    if (!RedisServer.isAvailable()) {
      throw new HarnessError('ERR_REDIS_UNAVAILABLE', 'redis-server is not on PATH');
    }
    const ownsDir = options.dir === undefined;
    const dir = options.dir ?? (await mkdtemp(path.join(os.tmpdir(), 'rescind-redis-')));
    if (ownsDir) trackOwnedDir(dir);
    try {
      for (let attempt = 1; ; attempt++) {
        const server = new RedisServer(options.port ?? (await freePort()), dir, ownsDir, options);
        try {
          await server.launch();
          return server;
        } catch (error) {
          // Someone may take a free port before redis binds it; only then is another port worth a try.
          const portTaken = error instanceof HarnessError && error.code === 'ERR_REDIS_PORT_IN_USE';
          if (!portTaken || options.port !== undefined || attempt >= PORT_ATTEMPTS) throw error;
        }
      }
    } catch (error) {
      if (ownsDir) await removeOwnedDir(dir);
      throw error;
    }
  }

  /** `redis://127.0.0.1:PORT` */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Process id of the running server, if any. */
  get pid(): number | undefined {
    return this.current?.running ? this.current.pid : undefined;
  }

  /** True while the server process runs. */
  get running(): boolean {
    return this.current?.running ?? false;
  }

  /** Resolves when the current server process exits, for whatever reason. */
  get exited(): Promise<ProcessExit> {
    return this.current?.exited ?? Promise.resolve({ code: null, signal: null });
  }

  /** The server's last log lines. */
  tail(): string {
    return this.current?.tail() ?? '';
  }

  /** Sends one command and renders the reply like `redis-cli --raw` (arrays one item per line, nil as ''). */
  async cli(...args: string[]): Promise<string> {
    return formatReplyRaw(await this.command(...args));
  }

  /** Sends one command and resolves with the decoded reply. */
  command(...args: string[]): Promise<RespReply> {
    return redisCommand(this.port, args);
  }

  /** SIGTERM (the AOF is fsynced), wait for exit, SIGKILL after 5 s. Data is kept for restart(). */
  async stop(): Promise<void> {
    if (!this.current?.running) return;
    this.stopRequested = true;
    await this.current.stop('SIGTERM', STOP_TIMEOUT_MS);
  }

  /** SIGKILL, as in a crash, and wait for exit. Written commands are already in the AOF. */
  async kill(): Promise<void> {
    if (!this.current?.running) return;
    this.stopRequested = true;
    await this.current.kill();
  }

  /** Stops the server if running and starts it again on the same port and data dir; resolves once the AOF is loaded. */
  async restart(): Promise<void> {
    await this.stop();
    await this.launch();
  }

  /** Stops the server and removes its data dir when the harness created it. */
  async dispose(): Promise<void> {
    await this.stop();
    if (this.ownsDir) await removeOwnedDir(this.dir);
  }

  private async launch(): Promise<void> {
    const server = await ManagedProcess.spawn('redis-server', this.args(), {
      name: `redis-${this.port}`,
      echo: this.options.echo,
      detached: this.options.detached,
    });
    this.current = server;
    this.stopRequested = false;
    this.unexpectedExit = undefined;
    void server.exited.then((exit) => {
      if (this.current === server && !this.stopRequested) this.unexpectedExit = exit;
    });

    const aborted = new AbortController();
    void server.exited.then((exit) => {
      const inUse = /address already in use/i.test(server.tail());
      aborted.abort(
        new HarnessError(
          inUse ? 'ERR_REDIS_PORT_IN_USE' : 'ERR_REDIS_START',
          `redis-server on port ${this.port} exited during start-up (${describeExit(exit)}); output:\n${server.tail()}`,
        ),
      );
    });
    const timeoutMs = this.options.startTimeoutMs ?? 10_000;
    try {
      await waitFor(() => this.answersAs(server.pid), {
        timeoutMs,
        description: `redis-server on port ${this.port} to answer PING`,
        signal: aborted.signal,
      });
    } catch (error) {
      this.stopRequested = true;
      await server.kill();
      if (error instanceof HarnessError && error.code === 'ERR_WAIT_TIMEOUT') {
        throw new HarnessError('ERR_REDIS_START', `${error.message}; output:\n${server.tail()}`);
      }
      throw error;
    }
  }

  // LOADING replies keep this false until the AOF has been replayed; the pid check makes sure the
  // PONG came from this process, not from another server already holding the port.
  private async answersAs(pid: number): Promise<boolean> {
    if ((await redisCommand(this.port, ['PING'], { timeoutMs: 1_000 })) !== 'PONG') return false;
    const info = await redisCommand(this.port, ['INFO', 'server'], { timeoutMs: 1_000 });
    if (typeof info === 'string' && info.includes(`process_id:${pid}\r\n`)) return true;
    throw new Error(`port ${this.port} is answered by another process`);
  }

  private args(): string[] {
    const { appendonly = true, appendfsync = 'everysec', extraArgs = [] } = this.options;
    return [
      ...['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir],
      ...['--appendonly', appendonly ? 'yes' : 'no', '--appendfsync', appendfsync],
      ...['--save', '', '--daemonize', 'no', '--logfile', ''],
      ...extraArgs,
    ];
  }
}

// Temp dirs of servers never disposed (a crashed test run) are removed when this process exits.
function trackOwnedDir(dir: string): void {
  if (!dirCleanupInstalled) {
    dirCleanupInstalled = true;
    process.once('exit', () => {
      for (const owned of ownedDirs) fs.rmSync(owned, { recursive: true, force: true });
    });
  }
  ownedDirs.add(dir);
}

async function removeOwnedDir(dir: string): Promise<void> {
  ownedDirs.delete(dir);
  await rm(dir, { recursive: true, force: true });
}
