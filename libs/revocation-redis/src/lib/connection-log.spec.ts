import { freePort, RedisServer, waitFor } from '@rescind/testing';
import { type ConnectionLogger, describeConnectionError } from './connection-log';
import { closeRedisClient, connectionLabel, createCommandClient } from './redis-connection';
import { createSubscriberClient } from './redis-subscriber';
import { type RedisClient } from './redis-topology';

describe('connection errors of the clients the libraries create', () => {
  let server: RedisServer | undefined;
  const clients: RedisClient[] = [];

  afterEach(async () => {
    jest.restoreAllMocks();
    await Promise.all(clients.splice(0).map((client) => closeRedisClient(client)));
    await server?.dispose();
    server = undefined;
  });

  function spyLogger(): ConnectionLogger & { warn: jest.Mock; log: jest.Mock } {
    return { warn: jest.fn(), log: jest.fn() };
  }

  function attemptsOf(client: RedisClient): () => number {
    let attempts = 0;
    client.on('reconnecting', () => attempts++);
    return () => attempts;
  }

  it('are logged once per change of state, never once per retry nor as unhandled events', async () => {
    // ioredis writes "[ioredis] Unhandled error event" to console.error for a client without an
    // `error` listener, once per attempt.
    const consoleError = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    const port = await freePort();
    const topology = { kind: 'standalone', url: `redis://127.0.0.1:${port}` } as const;
    const commandLog = spyLogger();
    const subscriberLog = spyLogger();
    const command = createCommandClient(topology, 'rescind-cmd', {}, commandLog);
    const subscriber = createSubscriberClient(topology, {
      connectionName: 'rescind-sub',
      logger: subscriberLog,
    });
    clients.push(command, subscriber);
    const commandAttempts = attemptsOf(command);
    const subscriberAttempts = attemptsOf(subscriber);

    // Redis down at start: several retries, one warning each, with the cause.
    command.connect().catch(() => undefined);
    subscriber.connect().catch(() => undefined);
    await waitFor(() => commandAttempts() >= 4 && subscriberAttempts() >= 4, {
      timeoutMs: 10_000,
      description: 'four reconnection attempts of each client',
    });
    expect(consoleError.mock.calls.map((call) => String(call[0]))).toEqual([]);
    expect(commandLog.warn.mock.calls).toEqual([
      [
        expect.stringMatching(
          /^Redis rescind-cmd to 127\.0\.0\.1:\d+: connection failing \(.*ECONNREFUSED/,
        ),
      ],
    ]);
    expect(subscriberLog.warn.mock.calls).toEqual([
      [
        expect.stringMatching(
          /^Redis rescind-sub to 127\.0\.0\.1:\d+: connection failing \(.*ECONNREFUSED/,
        ),
      ],
    ]);
    expect(commandLog.log).not.toHaveBeenCalled();

    // failing → connected: one line each.
    server = await RedisServer.start({ port, appendonly: false });
    await waitFor(() => command.status === 'ready' && subscriber.status === 'ready', {
      timeoutMs: 10_000,
      description: 'both clients connected',
    });
    expect(commandLog.log.mock.calls).toEqual([
      [expect.stringMatching(/rescind-cmd .*connected again/)],
    ]);
    expect(subscriberLog.log.mock.calls).toEqual([
      [expect.stringMatching(/rescind-sub .*connected again/)],
    ]);

    // connected → failing again: one more warning each, whatever the number of retries.
    const [commandBefore, subscriberBefore] = [commandAttempts(), subscriberAttempts()];
    await server.stop();
    await waitFor(
      () => commandAttempts() >= commandBefore + 4 && subscriberAttempts() >= subscriberBefore + 4,
      { timeoutMs: 10_000, description: 'four more reconnection attempts of each client' },
    );
    expect(commandLog.warn).toHaveBeenCalledTimes(2);
    expect(subscriberLog.warn).toHaveBeenCalledTimes(2);
    expect(commandLog.log).toHaveBeenCalledTimes(1);
    expect(consoleError).not.toHaveBeenCalled();
  });

  it('describes a refused connection to several addresses by its causes', () => {
    const refused = (address: string): Error =>
      Object.assign(new Error(`connect ECONNREFUSED ${address}`), { code: 'ECONNREFUSED' });
    const error = new AggregateError([refused('::1:6379'), refused('127.0.0.1:6379')], '');
    expect(describeConnectionError(error)).toBe(
      'connect ECONNREFUSED ::1:6379; connect ECONNREFUSED 127.0.0.1:6379',
    );
    expect(describeConnectionError(Object.assign(new Error(''), { code: 'ETIMEDOUT' }))).toBe(
      'ETIMEDOUT',
    );
    // An error of another realm (a test sandbox) is not `instanceof Error`: read by its shape.
    expect(describeConnectionError({ message: 'connect EHOSTUNREACH', name: 'Error' })).toBe(
      'connect EHOSTUNREACH',
    );
  });

  it('names each connection and where it goes, never the password', () => {
    expect(connectionLabel({ kind: 'standalone', url: 'redis://:pw@cache:6380/2' }, 'cmd')).toBe(
      'cmd to cache:6380',
    );
    expect(
      connectionLabel(
        { kind: 'sentinel', url: 'redis://:pw@x', sentinels: [], name: 'mymaster' },
        undefined,
      ),
    ).toBe('connection to master mymaster (Sentinel)');
    expect(
      connectionLabel(
        {
          kind: 'cluster',
          url: 'redis://:pw@x',
          nodes: [
            { host: 'a', port: 7000 },
            { host: 'b', port: 7001 },
          ],
        },
        'sub',
      ),
    ).toBe('sub to cluster a:7000,b:7001');
  });
});
