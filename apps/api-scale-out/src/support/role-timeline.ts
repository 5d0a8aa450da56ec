import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Loops, type RedisServer, type RespReply } from '@rescind/testing';

/** One change of a data node's replication role, as `ROLE` reported it. */
export interface RoleChange {
  /** `performance.now()` of the poll that saw it. */
  readonly atMs: number;
  readonly port: number;
  /** `master(1 replica)`, `slave of :P (connected)`, `unreachable`, … */
  readonly role: string;
}

/** Polls `ROLE` of every data node from start() until stop() and keeps the changes. */
export class RoleTimeline {
  private readonly loops = new Loops();
  private readonly changes: RoleChange[] = [];

  constructor(
    private readonly servers: readonly RedisServer[],
    private readonly intervalMs = 20,
  ) {}

  /** Starts one polling loop per node. */
  start(): void {
    this.loops.start(this.servers, (server) => this.watch(server));
  }

  /** Stops polling; resolves with every change, in time order. */
  async stop(): Promise<RoleChange[]> {
    await this.loops.stop();
    return [...this.changes].sort((a, b) => a.atMs - b.atMs);
  }

  private async watch(server: RedisServer): Promise<void> {
    let last: string | undefined;
    while (this.loops.active) {
      const atMs = performance.now();
      const role = await describeRole(server);
      if (role !== last) this.changes.push({ atMs, port: server.port, role });
      last = role;
      await sleep(this.intervalMs);
    }
  }
}

async function describeRole(server: RedisServer): Promise<string> {
  try {
    const reply = (await server.command('ROLE')) as RespReply[];
    if (reply[0] === 'master') return `master(${(reply[2] as RespReply[]).length} replica)`;
    return `slave of :${String(reply[2])} (${String(reply[3])})`;
  } catch {
    return 'unreachable';
  }
}
