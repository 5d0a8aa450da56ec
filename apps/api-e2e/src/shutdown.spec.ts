import { ApiClient, type ApiReplica, TestCluster, userWithTokens, waitFor } from '@rescind/testing';
import { get } from 'node:http';

/** One GET on a fresh connection: its status, `refused` before acceptance, or `dropped`. */
function getOnce(url: string, token: string): Promise<number | 'refused' | 'dropped'> {
  return new Promise((resolve) => {
    const request = get(
      url,
      { agent: false, headers: { authorization: `Bearer ${token}` } },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
        response.on('error', () => resolve('dropped'));
      },
    );
    request.on('error', (error: NodeJS.ErrnoException) =>
      resolve(error.code === 'ECONNREFUSED' ? 'refused' : 'dropped'),
    );
  });
}

describe('when a replica receives SIGTERM under load', () => {
  const cluster = new TestCluster({ suite: 'e2e', name: 'shutdown', replicas: 1 });
  let replica: ApiReplica;
  let url: string;

  beforeAll(async () => {
    await cluster.start();
    replica = cluster.replicas[0] as ApiReplica;
    url = cluster.urls[0] as string;
  });

  afterAll(() => cluster.stop());

  it('answers what it accepted, closes its Redis connections and exits 0', async () => {
    const client = new ApiClient(url);
    const [token] = (await userWithTokens(client, [client], 1, 'shutdown')).tokens as [string];
    const named = async (): Promise<number> =>
      (await cluster.redis.cli('CLIENT', 'LIST'))
        .split('\n')
        .filter((line) => line.includes(`name=rescind-`) && line.includes('api-a')).length;
    expect(await named()).toBeGreaterThan(0);

    // A burst in flight, then SIGTERM: each request (on its own connection, so that no request
    // races the server closing an idle keep-alive socket) gets a whole answer, or is refused
    // before it was accepted — never a 5xx other than the designed 503, never a dropped response.
    const burst = Array.from({ length: 200 }, () => getOnce(`${url}/me`, token));
    // Signal once the replica is answering the burst, so that requests are in flight.
    await Promise.race(burst);
    const exitCode = replica.stop('SIGTERM');
    const readinessDuringGrace = waitFor(
      async () => {
        const status = await getOnce(`${url}/health/ready`, token);
        return status === 503 ? status : undefined;
      },
      { timeoutMs: 5_000, intervalMs: 5, description: 'readiness to drop after SIGTERM' },
    );
    const outcomes = await Promise.all(burst);

    expect(await exitCode).toBe(0);
    // Sent before SIGTERM, so within the shutdown grace period: all answered.
    expect(outcomes.filter((o) => o !== 200)).toEqual([]);
    expect(await readinessDuringGrace).toBe(503);
    expect(await named()).toBe(0);
  });
});
