import { mkdir } from 'node:fs/promises';
import * as path from 'node:path';
import { ManagedProcess, RedisServer, type RespReply, waitFor } from '@rescind/testing';
import { makeTempDir, removeTempDir } from './temp-dir';

/** Options of {@link RedisCluster.start}. */
export interface RedisClusterOptions {
  /** Number of masters (no replicas). @default 3 */
  masters?: number;
  /** `cluster-node-timeout`. @default 2000 */
  nodeTimeoutMs?: number;
  /** How long the cluster may take to report `cluster_state:ok` on every node. @default 20000 */
  readyTimeoutMs?: number;
  /** Echo the servers' logs. @default false */
  echo?: boolean;
}

/** Pub/sub connections of one node, by client name. */
export interface NodeSubscribers {
  readonly port: number;
  readonly names: readonly string[];
}

/**
 * A real Redis Cluster of local `redis-server` processes (masters only, AOF on, loopback ports,
 * one temp dir), made with `redis-cli --cluster create`.
 */
export class RedisCluster {
  private disposed = false;

  private constructor(
    private readonly root: string,
    private readonly servers: RedisServer[],
  ) {}

  /** Starts the masters, creates the cluster and waits until every node reports it ok. */
  static async start(options: RedisClusterOptions = {}): Promise<RedisCluster> {
    const { masters = 3, nodeTimeoutMs = 2_000, readyTimeoutMs = 20_000, echo = false } = options;
    const root = await makeTempDir('rescind-cluster-');
    const cluster = new RedisCluster(root, []);
    try {
      const started = await Promise.allSettled(
        Array.from({ length: masters }, async (_, index) => {
          const dir = path.join(root, `node-${index}`);
          await mkdir(dir);
          return RedisServer.start({
            dir,
            appendonly: true,
            echo,
            extraArgs: [
              ...['--cluster-enabled', 'yes'],
              ...['--cluster-config-file', path.join(dir, 'nodes.conf')],
              ...['--cluster-node-timeout', String(nodeTimeoutMs)],
            ],
          });
        }),
      );
      for (const result of started)
        if (result.status === 'fulfilled') cluster.servers.push(result.value);
      for (const result of started) if (result.status === 'rejected') throw result.reason;
      await cluster.create();
      await waitFor(() => cluster.everyNodeOk(masters), {
        timeoutMs: readyTimeoutMs,
        intervalMs: 50,
        description: `cluster_state:ok with ${masters} known nodes on every node`,
      });
    } catch (error) {
      await cluster.dispose();
      throw error;
    }
    return cluster;
  }

  /** The masters, in start order. */
  get nodes(): readonly RedisServer[] {
    return this.servers;
  }

  /** `127.0.0.1:P1,127.0.0.1:P2,…`, as `REDIS_CLUSTER_NODES` takes it. */
  get nodeList(): string {
    return this.servers.map((server) => `127.0.0.1:${server.port}`).join(',');
  }

  /** The master serving the slot of `key` (after `CLUSTER KEYSLOT` and `CLUSTER SLOTS`). */
  async ownerOf(key: string): Promise<RedisServer> {
    const first = this.servers[0] as RedisServer;
    const slot = Number(await first.command('CLUSTER', 'KEYSLOT', key));
    const ranges = (await first.command('CLUSTER', 'SLOTS')) as RespReply[][];
    for (const [start, end, master] of ranges) {
      if (slot < Number(start) || slot > Number(end)) continue;
      const port = Number((master as RespReply[])[1]);
      const owner = this.servers.find((server) => server.port === port);
      if (owner !== undefined) return owner;
    }
    throw new Error(`no master serves slot ${slot} of ${key}`);
  }

  /** Pub/sub connections on every node (`CLIENT LIST TYPE pubsub`). */
  async subscribers(): Promise<NodeSubscribers[]> {
    return Promise.all(
      this.servers.map(async (server) => {
        const list = await server.cli('CLIENT', 'LIST', 'TYPE', 'pubsub');
        const names = list
          .split('\n')
          .filter((line) => line.trim() !== '')
          .map((line) => /(?:^| )name=(\S*)/.exec(line)?.[1] ?? '');
        return { port: server.port, names };
      }),
    );
  }

  /** `CLIENT KILL TYPE pubsub` on every master; resolves with the number of connections killed. */
  async killSubscribers(): Promise<number> {
    const killed = await Promise.all(
      this.servers.map((server) => server.command('CLIENT', 'KILL', 'TYPE', 'pubsub')),
    );
    return killed.reduce<number>((sum, count) => sum + Number(count), 0);
  }

  /** Every key matching `pattern` on every master (SCAN), by port. */
  async scan(pattern: string): Promise<Map<number, string[]>> {
    const found = new Map<number, string[]>();
    for (const server of this.servers) {
      const keys: string[] = [];
      let cursor = '0';
      do {
        const [next, page] = (await server.command(
          'SCAN',
          cursor,
          'MATCH',
          pattern,
          'COUNT',
          '1000',
        )) as [string, string[]];
        cursor = next;
        keys.push(...page);
      } while (cursor !== '0');
      found.set(server.port, keys);
    }
    return found;
  }

  /** Stops every node and removes the data dirs. Safe after a partial start and more than once. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await Promise.allSettled(this.servers.map((server) => server.stop()));
    await removeTempDir(this.root);
  }

  private async create(): Promise<void> {
    const cli = await ManagedProcess.spawn('redis-cli', [
      ...['--cluster', 'create', ...this.servers.map((s) => `127.0.0.1:${s.port}`)],
      ...['--cluster-replicas', '0', '--cluster-yes'],
    ]);
    const exit = await cli.exited;
    if (exit.code !== 0) {
      throw new Error(`redis-cli --cluster create failed (code ${exit.code}):\n${cli.tail()}`);
    }
  }

  private async everyNodeOk(masters: number): Promise<boolean> {
    const infos = await Promise.all(this.servers.map((server) => server.cli('CLUSTER', 'INFO')));
    return infos.every(
      (info) =>
        info.includes('cluster_state:ok') && info.includes(`cluster_known_nodes:${masters}`),
    );
  }
}
