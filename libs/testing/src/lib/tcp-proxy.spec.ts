import * as net from 'node:net';
import { once } from 'node:events';
import { TcpProxy } from './tcp-proxy';
import { waitFor } from './wait-for';

/** An upstream that echoes every byte back. */
async function echoServer(): Promise<net.Server> {
  const server = net.createServer((socket) => {
    socket.on('error', () => undefined);
    socket.pipe(socket);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

/** A client of the proxy that collects what comes back and notes when it is closed. */
async function connect(
  proxy: TcpProxy,
): Promise<{ socket: net.Socket; received: () => string; closed: () => boolean }> {
  const socket = net.connect({ host: '127.0.0.1', port: proxy.port });
  let text = '';
  let closed = false;
  socket.on('data', (chunk) => (text += chunk.toString()));
  socket.on('error', () => undefined);
  // A reset may come before or after the handshake completes: either way the client is done.
  await new Promise<void>((resolve) => {
    socket.once('connect', () => resolve());
    socket.once('close', () => {
      closed = true;
      resolve();
    });
  });
  return { socket, received: () => text, closed: () => closed };
}

describe('TcpProxy', () => {
  let upstream: net.Server;
  let proxy: TcpProxy;

  beforeEach(async () => {
    upstream = await echoServer();
    proxy = await TcpProxy.start((upstream.address() as net.AddressInfo).port);
  });

  afterEach(async () => {
    await proxy.close();
    upstream.close();
  });

  it('delays every chunk each way when asked, keeping their order', async () => {
    const delayed = await TcpProxy.start(
      (upstream.address() as net.AddressInfo).port,
      '127.0.0.1',
      0,
      {
        delayMs: 40,
      },
    );
    try {
      const client = await connect(delayed);
      const sent = Date.now();
      client.socket.write('one,');
      client.socket.write('two');
      await waitFor(() => client.received() === 'one,two', {
        timeoutMs: 5_000,
        intervalMs: 1,
        description: 'the delayed echo',
      });
      // Both directions: at least twice the delay (timers never fire early).
      expect(Date.now() - sent).toBeGreaterThanOrEqual(79);
      delayed.blackhole();
      client.socket.write('held');
      delayed.heal();
      await waitFor(() => client.received() === 'one,twoheld', {
        timeoutMs: 5_000,
        description: 'what the blackhole held',
      });
    } finally {
      await delayed.close();
    }
  });

  it('forwards both ways and names its upstream connections', async () => {
    const client = await connect(proxy);
    client.socket.write('ping');
    await waitFor(() => client.received() === 'ping', {
      timeoutMs: 5_000,
      description: 'the echo',
    });
    expect(proxy.mode).toBe('forward');
    expect(proxy.url()).toBe(`redis://127.0.0.1:${proxy.port}`);
    expect(proxy.upstreamLocalPorts()).toHaveLength(1);
    client.socket.destroy();
  });

  it('reset() drops open connections and refuses new ones until heal()', async () => {
    const open = await connect(proxy);
    proxy.reset();
    await waitFor(() => open.closed(), {
      timeoutMs: 5_000,
      description: 'the open connection to close',
    });
    const refused = await connect(proxy);
    await waitFor(() => refused.closed(), {
      timeoutMs: 5_000,
      description: 'the new connection to close',
    });
    proxy.heal();
    const healed = await connect(proxy);
    healed.socket.write('back');
    await waitFor(() => healed.received() === 'back', {
      timeoutMs: 5_000,
      description: 'the echo after heal',
    });
    healed.socket.destroy();
  });

  it('blackhole() holds bytes on open and new connections, and heal() delivers them', async () => {
    const open = await connect(proxy);
    proxy.blackhole();
    open.socket.write('held');
    const fresh = await connect(proxy);
    fresh.socket.write('also held');
    // Nothing may come back while held: give the bytes every chance to (a round trip is < 1 ms).
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(open.received()).toBe('');
    expect(fresh.received()).toBe('');
    expect(open.closed() || fresh.closed()).toBe(false);
    proxy.heal();
    await waitFor(() => open.received() === 'held' && fresh.received() === 'also held', {
      timeoutMs: 5_000,
      description: 'the held bytes',
    });
    open.socket.destroy();
    fresh.socket.destroy();
  });
});
