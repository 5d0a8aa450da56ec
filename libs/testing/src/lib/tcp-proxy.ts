import * as net from 'node:net';

/** What a {@link TcpProxy} does with the bytes between its clients and the upstream. */
export type TcpProxyMode = 'forward' | 'reset' | 'blackhole';

/** Options of {@link TcpProxy.start}. */
export interface TcpProxyOptions {
  /**
   * Delay added to every chunk in each direction, in order (a round trip gains twice this): a
   * simulated WAN between regions. @default 0
   */
  delayMs?: number;
}

/**
 * A loopback TCP proxy to one upstream (e.g. Redis) that a test can partition and heal, to cut
 * one process off while the others keep their connections. Two kinds of partition:
 * `reset()` resets every connection and every new one at once (the client learns of it), and
 * `blackhole()` keeps connections open but moves no byte in either direction (the client learns
 * nothing, as when packets are dropped); `heal()` forwards again, first what was held back. The
 * listening port stays bound throughout, so healing can never lose it.
 */
export class TcpProxy {
  private readonly links = new Set<ProxyLink>();
  private current: TcpProxyMode = 'forward';
  private acceptedCount = 0;

  private constructor(
    private readonly server: net.Server,
    readonly port: number,
    private readonly upstreamPort: number,
    private readonly upstreamHost: string,
    private readonly delayMs: number,
  ) {
    server.on('connection', (client) => this.accept(client));
  }

  /**
   * Listens on loopback `listenPort` (a free one by default) and forwards to
   * `upstreamHost:upstreamPort`.
   */
  static async start(
    upstreamPort: number,
    upstreamHost = '127.0.0.1',
    listenPort = 0,
    options: TcpProxyOptions = {},
  ): Promise<TcpProxy> {
    const server = net.createServer({ noDelay: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(listenPort, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as net.AddressInfo;
    return new TcpProxy(server, port, upstreamPort, upstreamHost, options.delayMs ?? 0);
  }

  /** `<scheme>://127.0.0.1:PORT`, e.g. a replica's `REDIS_URL`. */
  url(scheme = 'redis'): string {
    return `${scheme}://127.0.0.1:${this.port}`;
  }

  /** Connections accepted so far, reset ones included: how often the clients (re)connected. */
  get accepted(): number {
    return this.acceptedCount;
  }

  /** What the proxy does now. */
  get mode(): TcpProxyMode {
    return this.current;
  }

  /** Resets every open connection and every new one until {@link heal}. */
  reset(): void {
    this.current = 'reset';
    for (const link of this.links) link.reset();
  }

  /** Holds every byte in both directions, on open and new connections, until {@link heal}. */
  blackhole(): void {
    this.current = 'blackhole';
    for (const link of this.links) link.hold();
  }

  /** Forwards again, beginning with whatever a blackhole held back. */
  heal(): void {
    this.current = 'forward';
    for (const link of this.links) link.flow();
  }

  /**
   * Local ports of the proxy's open connections to the upstream: what the upstream sees as the
   * clients' addresses (e.g. to find them in Redis's `CLIENT LIST`).
   */
  upstreamLocalPorts(): number[] {
    return [...this.links].flatMap((link) => link.upstreamLocalPort ?? []);
  }

  /**
   * Stops listening and ends every connection: with a reset (RST) by default, as a partition that
   * never heals would, or closed in order (`destroy`), as a process that went away would.
   */
  async close(how: 'reset' | 'destroy' = 'reset'): Promise<void> {
    for (const link of this.links) link[how]();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: net.Socket): void {
    this.acceptedCount += 1;
    client.on('error', () => undefined);
    if (this.current === 'reset') {
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect({ host: this.upstreamHost, port: this.upstreamPort });
    upstream.setNoDelay(true);
    const link = new ProxyLink(client, upstream, this.delayMs, () => this.links.delete(link));
    this.links.add(link);
    if (this.current === 'forward') link.flow();
    else link.hold();
  }
}

/** One client connection and its upstream connection; closing either closes both. */
class ProxyLink {
  private flowing = false;
  private readonly toUpstream: (chunk: Buffer) => void;
  private readonly toClient: (chunk: Buffer) => void;

  constructor(
    private readonly client: net.Socket,
    private readonly upstream: net.Socket,
    private readonly delayMs: number,
    onClosed: () => void,
  ) {
    // Timers of one duration fire in the order they were set, so delayed chunks stay in order.
    const later =
      (to: net.Socket) =>
      (chunk: Buffer): void => {
        setTimeout(() => {
          if (!to.destroyed) to.write(chunk);
        }, delayMs);
      };
    this.toUpstream = later(upstream);
    this.toClient = later(client);
    upstream.on('error', () => undefined);
    const closeBoth = (): void => {
      client.destroy();
      upstream.destroy();
      onClosed();
    };
    client.once('close', closeBoth);
    upstream.once('close', closeBoth);
  }

  /** The upstream connection's local port, once connected. */
  get upstreamLocalPort(): number | undefined {
    return this.upstream.localPort;
  }

  /** Pipes both ways; bytes a blackhole kept in the sockets' buffers go first. */
  flow(): void {
    if (this.flowing) return;
    this.flowing = true;
    if (this.delayMs > 0) {
      this.client.on('data', this.toUpstream);
      this.upstream.on('data', this.toClient);
      this.client.resume();
      this.upstream.resume();
      return;
    }
    this.client.pipe(this.upstream);
    this.upstream.pipe(this.client);
  }

  /** Stops reading both ways; the kernel's buffers then fill and the senders stall. */
  hold(): void {
    this.flowing = false;
    this.client.off('data', this.toUpstream);
    this.upstream.off('data', this.toClient);
    this.client.unpipe(this.upstream);
    this.upstream.unpipe(this.client);
    this.client.pause();
    this.upstream.pause();
  }

  /** Closes both connections (FIN, no RST). */
  destroy(): void {
    this.client.destroy();
    this.upstream.destroy();
  }

  /** Resets both connections. */
  reset(): void {
    this.client.resetAndDestroy();
    this.upstream.resetAndDestroy();
  }
}
