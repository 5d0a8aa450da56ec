import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { TEST_REDIS_URL } from './redis-test-prefix';

/**
 * A TCP relay in front of the shared Redis, on a port of its own. Stopping it cuts every
 * connection made through it, which is how a test takes Redis away from one replica without
 * touching the server other suites use; starting it again on the same port brings Redis back.
 */
export class RedisProxy {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  private readonly target: URL;

  constructor(
    readonly port: number,
    target: string = TEST_REDIS_URL,
  ) {
    this.target = new URL(target);
  }

  /** `redis://` URL of the relay. */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Accepts connections and relays them to the target. */
  async start(): Promise<void> {
    if (this.server !== null) return;
    const server = createServer((client) => {
      const upstream = createConnection({
        host: this.target.hostname,
        port: Number(this.target.port || 6379),
      });
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream);
      upstream.pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.server = server;
  }

  /** Stops accepting connections and cuts the open ones. */
  async stop(): Promise<void> {
    const server = this.server;
    if (server === null) return;
    this.server = null;
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
