import { ApiClient, newCredentials, send, TestCluster } from '@rescind/testing';

const LIMIT = 3;

function login(
  url: string,
  username: string,
  password: string,
): Promise<{ status: number; headers: Headers }> {
  return send(`${url}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
}

describe('when someone guesses passwords', () => {
  // Two replicas: the counters live in Redis, so guesses spread over replicas add up.
  const cluster = new TestCluster({
    suite: 'e2e',
    name: 'login-throttle',
    replicas: 2,
    env: { LOGIN_FAILURE_LIMIT: String(LIMIT), LOGIN_IP_FAILURE_LIMIT: '1000' },
  });
  let urls: string[];

  beforeAll(async () => {
    await cluster.start();
    urls = cluster.urls;
  });

  afterAll(() => cluster.stop());

  it('answers 429 with Retry-After once a username had too many failures, on every replica', async () => {
    const victim = newCredentials('victim');
    await new ApiClient(urls[0] as string).register(victim);

    for (let attempt = 0; attempt <= LIMIT; attempt++) {
      const response = await login(urls[attempt % 2] as string, victim.username, 'wrong password!');
      expect(response.status).toBe(401);
    }
    for (const url of urls) {
      const blocked = await login(url, victim.username, 'wrong password!');
      expect(blocked.status).toBe(429);
      expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
      // Even the right password waits: otherwise the block would confirm a lucky guess.
      expect((await login(url, victim.username, victim.password)).status).toBe(429);
    }
  });

  it('never throttles successful logins, however many', async () => {
    const user = newCredentials('busy');
    await new ApiClient(urls[0] as string).register(user);
    for (let i = 0; i < 4 * LIMIT; i++) {
      expect((await login(urls[i % 2] as string, user.username, user.password)).status).toBe(200);
    }
  });
});
