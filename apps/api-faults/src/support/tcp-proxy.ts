import * as net from 'node:net';

/**
 * A TCP proxy to one upstream (here: Redis) that a test can cut and heal, to partition one
 * replica from Redis while the others keep their connections. Cut: every open connection is
 * reset and new ones are accepted and reset at once (the port stays bound, so heal() cannot lose
 * it); heal: new connections are piped to the upstream again.
 */
export class TcpProxy {
  private readonly sockets = new Set<net.Socket>();
  private cutOff = false;

  private constructor(
    private readonly server: net.Server,
    readonly port: number,
    private readonly upstreamPort: number,
  ) {
    server.on('connection', (client) => this.onConnection(client));
  }

  /** Listens on a free loopback port and forwards to `127.0.0.1:upstreamPort`. */
  static async start(upstreamPort: number): Promise<TcpProxy> {
    const server = net.createServer({ noDelay: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return new TcpProxy(server, (server.address() as net.AddressInfo).port, upstreamPort);
  }

  /** `redis://127.0.0.1:PORT`, for a replica's `REDIS_URL`. */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Resets every open connection and refuses (resets) new ones until heal(). */
  cut(): void {
    this.cutOff = true;
    for (const socket of this.sockets) socket.resetAndDestroy();
    this.sockets.clear();
  }

  /** Pipes new connections to the upstream again. */
  heal(): void {
    this.cutOff = false;
  }

  /** Stops listening and drops every connection. */
  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private onConnection(client: net.Socket): void {
    client.on('error', () => undefined);
    if (this.cutOff) {
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect({ host: '127.0.0.1', port: this.upstreamPort, noDelay: true });
    upstream.on('error', () => undefined);
    this.sockets.add(client);
    this.sockets.add(upstream);
    const drop = (): void => {
      this.sockets.delete(client);
      this.sockets.delete(upstream);
      client.destroy();
      upstream.destroy();
    };
    client.once('close', drop);
    upstream.once('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
