import { mkdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import {
  freePort,
  ManagedProcess,
  RedisServer,
  redisCommand,
  type RespReply,
  waitFor,
} from '@rescind/testing';
import { makeTempDir, removeTempDir } from './temp-dir';

/** Options of {@link SentinelGroup.start}. */
export interface SentinelGroupOptions {
  /** `sentinel monitor <name> …` @default 'mymaster' */
  name?: string;
  /** Number of sentinels. @default 3 */
  sentinels?: number;
  /** Sentinels that must agree the master is down. @default 2 */
  quorum?: number;
  /** `sentinel down-after-milliseconds`. @default 1000 */
  downAfterMs?: number;
  /** `sentinel failover-timeout`. @default 5000 */
  failoverTimeoutMs?: number;
  /** Further `redis-server` arguments of the first master. */
  masterArgs?: string[];
  /** Further `redis-server` arguments of the replica (besides `--replicaof`). */
  replicaArgs?: string[];
  /** How long the group may take to be fully monitored. @default 20000 */
  readyTimeoutMs?: number;
  /** Echo every process's log. @default false */
  echo?: boolean;
}

interface Sentinel {
  readonly port: number;
  readonly process: ManagedProcess;
}

/**
 * One master, one replica (`--replicaof`, AOF on both) and N sentinels (`redis-server <conf>
 * --sentinel`), all on free loopback ports under one temp dir.
 */
export class SentinelGroup {
  private readonly sentinels: Sentinel[] = [];
  private readonly data: RedisServer[] = [];
  private disposed = false;

  private constructor(
    private readonly root: string,
    private readonly options: SentinelGroupOptions,
  ) {}

  /** Starts master, replica and sentinels; resolves once every sentinel monitors all of them. */
  static async start(options: SentinelGroupOptions = {}): Promise<SentinelGroup> {
    const group = new SentinelGroup(await makeTempDir('rescind-sentinel-'), options);
    try {
      await group.launch();
    } catch (error) {
      await group.dispose();
      throw error;
    }
    return group;
  }

  /** `mymaster` */
  get name(): string {
    return this.options.name ?? 'mymaster';
  }

  /** The data nodes: the first master, then the first replica (their roles change on failover). */
  get servers(): readonly RedisServer[] {
    return this.data;
  }

  /** `127.0.0.1:P1,127.0.0.1:P2,…`, as `REDIS_SENTINELS` takes it. */
  get sentinelList(): string {
    return this.sentinels.map((sentinel) => `127.0.0.1:${sentinel.port}`).join(',');
  }

  /** The data node every sentinel names as master, or `undefined` while they disagree. */
  async agreedMaster(): Promise<RedisServer | undefined> {
    const ports = await Promise.all(
      this.sentinels.map(async (sentinel) => {
        const reply = (await redisCommand(sentinel.port, [
          'SENTINEL',
          'GET-MASTER-ADDR-BY-NAME',
          this.name,
        ])) as RespReply[];
        return Number(reply[1]);
      }),
    );
    if (new Set(ports).size !== 1) return undefined;
    return this.data.find((server) => server.port === ports[0]);
  }

  /** `SENTINEL FAILOVER <name>` on the first sentinel (no agreement needed, the master stays up). */
  async failover(): Promise<void> {
    await redisCommand((this.sentinels[0] as Sentinel).port, ['SENTINEL', 'FAILOVER', this.name]);
  }

  /**
   * Waits until every sentinel names another node than `previous` as master and that node says
   * it is one; resolves with it.
   */
  async waitForNewMaster(previous: RedisServer, timeoutMs = 15_000): Promise<RedisServer> {
    return waitFor(
      async () => {
        const master = await this.agreedMaster();
        if (master === undefined || master === previous) return undefined;
        return (await roleOf(master)) === 'master' ? master : undefined;
      },
      { timeoutMs, intervalMs: 20, description: `a master other than :${previous.port}` },
    );
  }

  /** Waits until `replica` replicates from `master` with its link up. */
  async waitForReplication(
    master: RedisServer,
    replica: RedisServer,
    timeoutMs = 20_000,
  ): Promise<void> {
    await waitFor(
      async () => {
        const info = await replica.cli('INFO', 'replication');
        return (
          info.includes('role:slave') &&
          info.includes(`master_port:${master.port}`) &&
          info.includes('master_link_status:up')
        );
      },
      {
        timeoutMs,
        intervalMs: 50,
        description: `:${replica.port} to replicate from :${master.port}`,
      },
    );
  }

  /** Stops sentinels and data nodes and removes the temp dir. Safe after a partial start. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await Promise.allSettled(this.sentinels.map((sentinel) => sentinel.process.stop()));
    await Promise.allSettled(this.data.map((server) => server.stop()));
    await removeTempDir(this.root);
  }

  private async launch(): Promise<void> {
    const { echo = false, readyTimeoutMs = 20_000 } = this.options;
    const masterDir = path.join(this.root, 'node-0');
    const replicaDir = path.join(this.root, 'node-1');
    await Promise.all([mkdir(masterDir), mkdir(replicaDir)]);
    const master = await RedisServer.start({
      dir: masterDir,
      echo,
      extraArgs: this.options.masterArgs,
    });
    this.data.push(master);
    const replica = await RedisServer.start({
      dir: replicaDir,
      echo,
      extraArgs: [
        ...['--replicaof', '127.0.0.1', String(master.port)],
        ...(this.options.replicaArgs ?? []),
      ],
    });
    this.data.push(replica);
    await this.waitForReplication(master, replica, readyTimeoutMs);

    const count = this.options.sentinels ?? 3;
    for (let index = 0; index < count; index++) {
      this.sentinels.push(await this.startSentinel(index, master.port));
    }
    await waitFor(() => this.fullyMonitored(count), {
      timeoutMs: readyTimeoutMs,
      intervalMs: 100,
      description: `every sentinel to know the master, the replica and ${count - 1} other sentinels`,
    });
  }

  private async startSentinel(index: number, masterPort: number): Promise<Sentinel> {
    const {
      quorum = 2,
      downAfterMs = 1_000,
      failoverTimeoutMs = 5_000,
      echo = false,
    } = this.options;
    const dir = path.join(this.root, `sentinel-${index}`);
    await mkdir(dir);
    const port = await freePort();
    const conf = path.join(dir, 'sentinel.conf');
    // Sentinel rewrites its config file, so it must be its own, writable one.
    await writeFile(
      conf,
      [
        `port ${port}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        'sentinel resolve-hostnames no',
        `sentinel monitor ${this.name} 127.0.0.1 ${masterPort} ${quorum}`,
        `sentinel down-after-milliseconds ${this.name} ${downAfterMs}`,
        `sentinel failover-timeout ${this.name} ${failoverTimeoutMs}`,
        '',
      ].join('\n'),
    );
    const child = await ManagedProcess.spawn('redis-server', [conf, '--sentinel'], {
      name: `sentinel-${port}`,
      echo,
    });
    const exited = new AbortController();
    void child.exited.then(() =>
      exited.abort(new Error(`sentinel :${port} exited; output:\n${child.tail()}`)),
    );
    await waitFor(
      async () => (await redisCommand(port, ['PING'], { timeoutMs: 1_000 })) === 'PONG',
      {
        timeoutMs: 10_000,
        description: `sentinel :${port} to answer PING`,
        signal: exited.signal,
      },
    );
    return { port, process: child };
  }

  private async fullyMonitored(count: number): Promise<boolean> {
    for (const sentinel of this.sentinels) {
      const replicas = (await redisCommand(sentinel.port, [
        'SENTINEL',
        'REPLICAS',
        this.name,
      ])) as RespReply[][];
      const others = (await redisCommand(sentinel.port, [
        'SENTINEL',
        'SENTINELS',
        this.name,
      ])) as RespReply[][];
      const healthy = replicas.filter((fields) => {
        const flags = field(fields, 'flags');
        return flags === 'slave' && field(fields, 'master-link-status') === 'ok';
      });
      if (healthy.length < 1 || others.length < count - 1) return false;
    }
    return true;
  }
}

/** `master` or `slave`, from `ROLE`. */
export async function roleOf(server: RedisServer): Promise<string> {
  const reply = (await server.command('ROLE')) as RespReply[];
  return String(reply[0]);
}

/** The value after `name` in a flat `[name, value, …]` reply. */
function field(fields: readonly RespReply[], name: string): string | undefined {
  const index = fields.indexOf(name);
  return index === -1 ? undefined : String(fields[index + 1]);
}
