import { TEST_REDIS_URL } from './redis-test-prefix';
import { TcpProxy } from './tcp-proxy';

/**
 * A relay in front of a Redis (the shared test server by default) on a port of its own that
 * comes and goes: until {@link start} and after {@link stop} nothing listens on the port, so a
 * connection is refused rather than reset (unlike {@link TcpProxy.reset}). That is how a test takes
 * Redis away from one application without touching the server other suites use; starting it
 * again on the same port brings Redis back.
 */
export class RedisProxy {
  private proxy: TcpProxy | null = null;
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
    this.proxy ??= await TcpProxy.start(
      Number(this.target.port || 6379),
      this.target.hostname,
      this.port,
    );
  }

  /** Stops accepting connections and closes the open ones (as a Redis that went away would). */
  async stop(): Promise<void> {
    const proxy = this.proxy;
    this.proxy = null;
    await proxy?.close('destroy');
  }
}
