import { Cluster, type Command, Redis } from 'ioredis';
import { REDIS_URL, uniquePrefix, waitFor } from '../testing/store-fixtures';
import { closeRedisClient } from './redis-connection';
import { createSubscriberClient } from './redis-subscriber';

describe('createSubscriberClient', () => {
  const clients: Redis[] = [];

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => closeRedisClient(client)));
  });

  function track(client: Redis): Redis {
    clients.push(client);
    client.on('error', () => undefined);
    return client;
  }

  async function ready(client: Redis): Promise<void> {
    await new Promise<void>((resolve) => client.once('ready', () => resolve()));
  }

  it('connects lazily, under its name', async () => {
    const name = `${uniquePrefix()}-sub`;
    const client = track(
      createSubscriberClient({ kind: 'standalone', url: REDIS_URL }, { connectionName: name }),
    );
    expect(client.status).toBe('wait');
    await client.connect();
    expect(await client.client('GETNAME')).toBe(name);
  });

  it('reconnects with one round trip before its SUBSCRIBE: no INFO ready check, no CLIENT SETINFO, no second SUBSCRIBE', async () => {
    const name = `${uniquePrefix()}-sub`;
    const client = track(
      createSubscriberClient({ kind: 'standalone', url: REDIS_URL }, { connectionName: name }),
    );
    // As its callers do: subscribe on every `ready`.
    let confirmed = 0;
    client.on('ready', () => {
      void client.subscribe(`${name}-ch`).then(() => confirmed++);
    });
    const sent: string[] = [];
    const send = client.sendCommand.bind(client);
    client.sendCommand = ((command: Command, stream?: never) => {
      sent.push(command.name);
      return send(command, stream);
    }) as typeof client.sendCommand;
    await client.connect();
    await waitFor(() => confirmed === 1, 'the first subscription');
    sent.length = 0;
    const admin = new Redis(REDIS_URL);
    try {
      const line = ((await admin.call('CLIENT', 'LIST', 'TYPE', 'pubsub')) as string)
        .split('\n')
        .find((entry) => entry.includes(` name=${name} `)) as string;
      const id = /\bid=(\d+)/.exec(line)?.[1] as string;
      expect(Number(await admin.client('KILL', 'ID', id))).toBe(1);
    } finally {
      admin.disconnect();
    }
    await waitFor(() => confirmed === 2, 'the subscription made again after the kill');
    expect(sent).toEqual(['client', 'subscribe']); // CLIENT SETNAME, then the caller's SUBSCRIBE
  });

  it('in a cluster, makes a plain connection that moves to the next node on each attempt', async () => {
    const attempts: number[] = [];
    const client = track(
      createSubscriberClient(
        {
          kind: 'cluster',
          url: REDIS_URL,
          // Nothing listens on port 1: the first attempt fails, the retry goes to the next node.
          nodes: [
            { host: '127.0.0.1', port: 1 },
            { host: '127.0.0.1', port: 6379 },
          ],
        },
        {
          connectionName: `${uniquePrefix()}-sub`,
          retryStrategy: (attempt) => {
            attempts.push(attempt);
            return 10;
          },
        },
      ),
    );
    expect(client).toBeInstanceOf(Redis);
    expect(client).not.toBeInstanceOf(Cluster);
    const connected = ready(client);
    client.connect().catch(() => undefined);
    await connected;
    expect(attempts).toEqual([1]);
    expect(client.options.port).toBe(6379);
  });

  it('stops reconnecting when its retry strategy says so', async () => {
    const client = track(
      createSubscriberClient(
        { kind: 'cluster', url: REDIS_URL, nodes: [{ host: '127.0.0.1', port: 1 }] },
        { connectionName: 'never', retryStrategy: () => null },
      ),
    );
    const ended = new Promise<void>((resolve) => client.once('end', () => resolve()));
    client.connect().catch(() => undefined);
    await ended;
    expect(client.status).toBe('end');
  });
});
