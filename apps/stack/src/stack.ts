import * as net from 'node:net';
import { availableParallelism } from 'node:os';
import { defaultLoginMaxConcurrentHashes } from '@rescind/config';
import {
  ApiReplica,
  RedisServer,
  WORKER_READY_PATTERN,
  WorkerProcess,
  appEntry,
  describeExit,
  waitFor,
  type ProcessExit,
} from '@rescind/testing';
import { redactUrl } from './redact-url';
import { type StackConfig } from './stack-config';
import { StackError } from './stack.error';

/** Options for {@link Stack}. */
export interface StackOptions {
  config: StackConfig;
  /** API entry point. @default `<repo>/dist/apps/api/src/main.js` */
  apiEntry?: string;
  /** Worker entry point. @default `<repo>/dist/apps/worker/src/main.js` */
  workerEntry?: string;
  /** How long every replica and the worker get to become ready. @default 60000 */
  readyTimeoutMs?: number;
  /** Echo children's output prefixed with `[api-PORT]` / `[worker]`. @default true */
  echo?: boolean;
  /** Where the launcher's own progress lines go. @default console.log */
  log?: (line: string) => void;
}

/** What a started stack serves. */
export interface RunningStack {
  apiUrls: string[];
  /** Password hidden. */
  redisUrl: string;
  /** True when the stack started (and will stop) its own redis-server. */
  privateRedis: boolean;
}

/** A child that exited without being asked to. */
export interface StackFailure {
  name: string;
  exit: ProcessExit;
}

const CHILD_STOP_TIMEOUT_MS = 10_000;
const READY_POLL_MS = 100;

/** Redis, the worker and the API replicas of `npm start`, started and stopped as one. */
/**
 * Registrations per address on the local stack, unless `REGISTER_IP_LIMIT` says otherwise: every
 * client of a machine's own stack (a k6 run's virtual users, a developer's scripts) registers
 * from one address, which the production default of 20 per window would refuse after a moment.
 */
const LOCAL_REGISTER_IP_LIMIT = '1000000';

export class Stack {
  private redis: RedisServer | undefined;
  private redisUrl = '';
  private worker: WorkerProcess | undefined;
  private readonly replicas: ApiReplica[] = [];
  private launching: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private readonly abort = new AbortController();
  private reportFailure: (failure: StackFailure) => void = () => undefined;

  /** Resolves with the first child (or private Redis) that exits while the stack is not stopping. */
  readonly failed = new Promise<StackFailure>((resolve) => (this.reportFailure = resolve));

  constructor(private readonly options: StackOptions) {
    void this.failed.then(({ name, exit }) =>
      this.abort.abort(
        new StackError(
          'ERR_CHILD_EXITED',
          `${name} exited during start-up (${describeExit(exit)})`,
        ),
      ),
    );
  }

  /** Starts everything and resolves once all replicas answer /health/ready and the worker is ready; on failure stops what it started. */
  async start(): Promise<RunningStack> {
    try {
      this.launching = this.launch();
      await this.launching;
      await this.waitUntilReady();
      return {
        apiUrls: this.replicas.map((replica) => replica.url),
        redisUrl: redactUrl(this.redisUrl),
        privateRedis: this.redis !== undefined,
      };
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  /** Stops replicas and worker (SIGTERM, SIGKILL after 10 s), then the private Redis; idempotent. */
  stop(): Promise<void> {
    this.stopping ??= this.shutDown();
    return this.stopping;
  }

  private async launch(): Promise<void> {
    const { config, echo = true } = this.options;
    // Everything that can be checked up front is, before a Redis is started for nothing.
    const apiEntry = this.options.apiEntry ?? appEntry('api');
    const workerEntry = this.options.workerEntry ?? appEntry('worker');
    await Promise.all(config.apiPorts.map(assertPortFree));
    this.redisUrl = config.redisUrl ?? (await this.startPrivateRedis());
    this.throwIfStopping();

    const env: Record<string, string> = { REDIS_URL: this.redisUrl };
    if (config.adminApiKey.generated) env['ADMIN_API_KEY'] = config.adminApiKey.value;
    if (config.childLogFormat !== undefined) {
      env['LOG_FORMAT'] = config.childLogFormat;
      // The children write to a pipe, but their lines end up on the stack's terminal.
      env['FORCE_COLOR'] ??= process.env['FORCE_COLOR'] ?? '1';
    }
    // The replicas share this machine's cores: each gets its share of the hashing slots
    // (README, "Login capacity"), unless LOGIN_MAX_CONCURRENT_HASHES says otherwise.
    const loginHashesPerReplica = defaultLoginMaxConcurrentHashes(
      availableParallelism(),
      process.env['UV_THREADPOOL_SIZE'],
      config.apiPorts.length,
    );
    const worker = WorkerProcess.spawn({ env, echo, detached: true, entry: workerEntry }).then(
      (started) => {
        this.worker = started;
        this.watch(started.name, started.exited);
      },
    );
    const replicas = config.apiPorts.map(async (port) => {
      const replica = await ApiReplica.start({
        port,
        env: {
          ...env,
          REGISTER_IP_LIMIT: process.env['REGISTER_IP_LIMIT'] ?? LOCAL_REGISTER_IP_LIMIT,
          LOGIN_MAX_CONCURRENT_HASHES:
            process.env['LOGIN_MAX_CONCURRENT_HASHES'] ?? String(loginHashesPerReplica),
        },
        echo,
        // Not in a session of their own: Linux shares the CPU between sessions (autogroups) before
        // it weighs niceness, so a replica alone in its session would hash at full weight against
        // the others' reads (docs/design.md, "Login bulkhead"). A Ctrl-C reaches them with the
        // stack, and each drains as on SIGTERM.
        detached: false,
        entry: apiEntry,
      });
      this.replicas.push(replica);
      this.watch(replica.name, replica.exited);
    });
    // allSettled: every child that did start must be known to stop(), even when another failed to.
    for (const result of await Promise.allSettled([worker, ...replicas])) {
      if (result.status === 'rejected') throw result.reason;
    }
    this.replicas.sort((a, b) => config.apiPorts.indexOf(a.port) - config.apiPorts.indexOf(b.port));
  }

  private async startPrivateRedis(): Promise<string> {
    if (!RedisServer.isAvailable()) {
      throw new StackError(
        'ERR_NO_REDIS',
        'no Redis available: set REDIS_URL=redis://host:6379 or install redis-server (e.g. apt-get install -y redis-server)',
      );
    }
    const redis = await RedisServer.start({ appendonly: true, detached: true });
    this.redis = redis;
    this.watch('redis-server', redis.exited);
    this.log(`rescind: started a private redis-server on ${redis.url} (data in ${redis.dir})`);
    return redis.url;
  }

  private async waitUntilReady(): Promise<void> {
    const { readyTimeoutMs = 60_000 } = this.options;
    const worker = this.worker as WorkerProcess;
    const waiting = new Map<string, string>([[worker.name, 'no "worker ready" line yet']]);
    for (const replica of this.replicas) waiting.set(replica.name, 'no answer yet');
    worker.process.waitForLine(WORKER_READY_PATTERN, readyTimeoutMs + 1_000).then(
      () => waiting.delete(worker.name),
      () => undefined,
    );
    try {
      await waitFor(
        async () => {
          await Promise.all(
            this.replicas
              .filter((replica) => waiting.has(replica.name))
              .map(async (replica) => {
                const problem = await probeReady(`${replica.url}/health/ready`);
                if (problem) waiting.set(replica.name, problem);
                else waiting.delete(replica.name);
              }),
          );
          return waiting.size === 0;
        },
        {
          timeoutMs: readyTimeoutMs,
          intervalMs: READY_POLL_MS,
          description: 'the stack to be ready',
          signal: this.abort.signal,
        },
      );
    } catch {
      if (this.abort.signal.aborted) throw this.abort.signal.reason;
      const notReady = [...waiting].map(([name, problem]) => `${name} (${problem})`).join(', ');
      const hint = this.redis ? '' : `; is Redis reachable at ${redactUrl(this.redisUrl)}?`;
      throw new StackError(
        'ERR_START_TIMEOUT',
        `not ready after ${readyTimeoutMs / 1000} s: ${notReady}${hint}`,
      );
    }
  }

  private watch(name: string, exited: Promise<ProcessExit>): void {
    void exited.then((exit) => {
      if (!this.stopping) this.reportFailure({ name, exit });
    });
  }

  private log(line: string): void {
    (this.options.log ?? console.log)(line);
  }

  private throwIfStopping(): void {
    if (this.stopping) throw new StackError('ERR_STOPPED', 'stopped before it was ready');
  }

  private async shutDown(): Promise<void> {
    this.abort.abort(new StackError('ERR_STOPPED', 'stopped before it was ready'));
    // Children spawned by a launch still in flight must be stopped too.
    await this.launching?.catch(() => undefined);
    const children = [...this.replicas, ...(this.worker ? [this.worker] : [])];
    await Promise.all(children.map((child) => child.stop('SIGTERM', CHILD_STOP_TIMEOUT_MS)));
    // Redis goes last so replicas never see their source of truth vanish while shutting down.
    await this.redis?.dispose();
  }
}

// Undefined when ready, otherwise what was seen instead (for the timeout message).
async function probeReady(url: string): Promise<string | undefined> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    await response.arrayBuffer();
    return response.status === 200 ? undefined : `/health/ready answered ${response.status}`;
  } catch (error) {
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
    return cause instanceof Error ? cause.message : String(cause);
  }
}

// A clear message up front beats an EADDRINUSE stack trace from one replica.
function assertPortFree(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new StackError(
          'ERR_PORT_IN_USE',
          error.code === 'EADDRINUSE'
            ? `port ${port} is already in use; stop what holds it or choose other API_PORTS`
            : `cannot listen on port ${port} (${error.code ?? error.message}); choose other API_PORTS`,
        ),
      ),
    );
    probe.listen(port, () => probe.close(() => resolve()));
  });
}
