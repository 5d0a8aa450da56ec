import { freePort } from './free-port';
import { HarnessError } from './harness.error';
import { ManagedProcess } from './managed-process';
import { describeExit } from './process-exit';
import { appEntry } from './repo-root';
import { RestartableProcess } from './restartable-process';
import { waitForHttpOk } from './wait-for-http-ok';

/** Options for {@link ApiReplica.start}. */
export interface ApiReplicaOptions {
  /** `PORT` of the replica. @default a free port */
  port?: number;
  /** `INSTANCE_ID` and output label. @default `api-<port>` */
  name?: string;
  /** Further environment (`REDIS_URL`, `KEY_PREFIX`, …), over the inherited one. */
  env?: Record<string, string | undefined>;
  /** Echo output prefixed with `[name]`. @default false */
  echo?: boolean;
  /** Own process group. @default false */
  detached?: boolean;
  /** Script to run. @default `<repo>/dist/apps/api/src/main.js` */
  entry?: string;
  /** Append stdout (the JSON logs) to this file instead of capturing it. @default captured */
  stdoutFile?: string;
}

/** One API replica process (`dist/apps/api/src/main.js`) on a known port. */
export class ApiReplica extends RestartableProcess {
  private constructor(
    readonly port: number,
    readonly name: string,
    private readonly options: ApiReplicaOptions,
    current: ManagedProcess,
  ) {
    super(current);
  }

  /** Spawns the replica; call {@link ApiReplica.ready} to wait until it serves. */
  static async start(options: ApiReplicaOptions = {}): Promise<ApiReplica> {
    const port = options.port ?? (await freePort());
    const name = options.name ?? `api-${port}`;
    return new ApiReplica(port, name, options, await spawnReplica(port, name, options));
  }

  /** `http://127.0.0.1:PORT` */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Waits until `GET /health/ready` answers 200; fails at once if the process exits. */
  async ready(timeoutMs = 60_000): Promise<void> {
    const replica = this.current;
    const aborted = new AbortController();
    void replica.exited.then((exit) =>
      aborted.abort(
        new HarnessError(
          'ERR_PROCESS_EXITED',
          `${this.name} exited (${describeExit(exit)}) before it was ready; last output:\n${replica.tail()}`,
        ),
      ),
    );
    try {
      await waitForHttpOk(`${this.url}/health/ready`, timeoutMs, aborted.signal);
    } catch (error) {
      if (error instanceof HarnessError && error.code === 'ERR_WAIT_TIMEOUT') {
        throw new HarnessError(
          'ERR_WAIT_TIMEOUT',
          `${this.name}: ${error.message}; last output:\n${replica.tail()}`,
        );
      }
      throw error;
    }
  }

  /** Stops the process if running and spawns it again with the same port and env; then call ready(). */
  restart(): Promise<void> {
    return this.respawn();
  }

  protected spawnAgain(): Promise<ManagedProcess> {
    return spawnReplica(this.port, this.name, this.options);
  }
}

function spawnReplica(
  port: number,
  name: string,
  options: ApiReplicaOptions,
): Promise<ManagedProcess> {
  return ManagedProcess.spawnNode(options.entry ?? appEntry('api'), {
    name,
    env: { ...options.env, PORT: String(port), INSTANCE_ID: name },
    echo: options.echo,
    detached: options.detached,
    ...(options.stdoutFile === undefined ? {} : { stdoutFile: options.stdoutFile }),
  });
}
