import { type ApiReplica } from '@rescind/testing';
import { ApiClient, bearer, send, userWithTokens } from './support/api-client';
import { E2eCluster } from './support/e2e-cluster';

describe('when a replica receives SIGTERM under load', () => {
  const cluster = new E2eCluster({ name: 'shutdown', replicas: 1 });
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

    // A burst in flight, then SIGTERM: each request gets a whole answer or is refused before
    // it was accepted, never a 5xx other than the designed 503 or a dropped response.
    const burst = Array.from({ length: 200 }, () =>
      send(`${url}/me`, { headers: bearer(token) }).then(
        (response) => response.status,
        (error: unknown) =>
          String((error as Error).cause ?? error).includes('ECONNREFUSED') ? 'refused' : 'dropped',
      ),
    );
    const exitCode = replica.stop('SIGTERM');
    const outcomes = await Promise.all(burst);

    expect(await exitCode).toBe(0);
    expect(outcomes.filter((o) => o !== 200 && o !== 503 && o !== 'refused')).toEqual([]);
    expect(outcomes).toContain(200);
    expect(await named()).toBe(0);
  });
});
