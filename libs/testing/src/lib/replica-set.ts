import { ApiReplica, type ApiReplicaOptions } from './api-replica';
import { freePort } from './free-port';

/** Options for {@link ReplicaSet.start}. */
export interface ReplicaSetOptions extends Omit<ApiReplicaOptions, 'port' | 'name'> {
  /** Number of replicas when `ports` is not given. @default 3 */
  count?: number;
  /** One replica per port. @default `count` free ports */
  ports?: readonly number[];
  /** How long to wait for every replica to be ready. @default 30000 */
  readyTimeoutMs?: number;
}

/** Several API replicas started in parallel; resolves once all are ready. */
export class ReplicaSet {
  private constructor(readonly replicas: readonly ApiReplica[]) {}

  /** Starts every replica and waits until all are ready; stops them all if one fails. */
  static async start(options: ReplicaSetOptions = {}): Promise<ReplicaSet> {
    const { count = 3, ports, readyTimeoutMs, ...replicaOptions } = options;
    const chosen = ports ?? (await distinctFreePorts(count));
    const started = await Promise.allSettled(
      chosen.map((port) => ApiReplica.start({ ...replicaOptions, port })),
    );
    const set = new ReplicaSet(
      started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : [])),
    );
    try {
      for (const result of started) if (result.status === 'rejected') throw result.reason;
      await Promise.all(set.replicas.map((replica) => replica.ready(readyTimeoutMs)));
    } catch (error) {
      await set.stop();
      throw error;
    }
    return set;
  }

  /** Base URLs, in port order given. */
  get urls(): string[] {
    return this.replicas.map((replica) => replica.url);
  }

  /** Stops every replica (SIGTERM, then SIGKILL after 10 s). */
  async stop(): Promise<void> {
    await Promise.all(this.replicas.map((replica) => replica.stop()));
  }
}

async function distinctFreePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}
