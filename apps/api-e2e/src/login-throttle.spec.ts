import { ApiClient, newCredentials, send, TestCluster } from '@rescind/testing';

const LIMIT = 3;
const IP_LIMIT = 8;
const REGISTER_LIMIT = 3;
/** Concurrent attempts fired at once: far more than any limit. */
const BURST = 40;

interface Answer {
  status: number;
  headers: Headers;
}

/** `POST` of credentials to `path`, optionally as forwarded by a proxy for `forwardedFor`. */
function post(
  url: string,
  path: '/auth/login' | '/auth/register',
  credentials: { username: string; password: string },
  forwardedFor?: string,
): Promise<Answer> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (forwardedFor !== undefined) headers['x-forwarded-for'] = forwardedFor;
  return send(`${url}${path}`, { method: 'POST', headers, body: JSON.stringify(credentials) });
}

function login(
  url: string,
  username: string,
  password: string,
  forwardedFor?: string,
): Promise<Answer> {
  return post(url, '/auth/login', { username, password }, forwardedFor);
}

/** How many answers had each status; every 429 must say when to come back. */
function tally(answers: readonly Answer[]): Map<number, number> {
  const counts = new Map<number, number>();
  for (const answer of answers) {
    counts.set(answer.status, (counts.get(answer.status) ?? 0) + 1);
    if (answer.status === 429) {
      expect(Number(answer.headers.get('retry-after'))).toBeGreaterThan(0);
    }
  }
  return counts;
}

/** `count` requests made at once, spread over `urls`. */
function burst(
  urls: readonly string[],
  count: number,
  request: (url: string, i: number) => Promise<Answer>,
): Promise<Answer[]> {
  return Promise.all(
    Array.from({ length: count }, (_, i) => request(urls[i % urls.length] as string, i)),
  );
}

describe('when someone guesses passwords', () => {
  // Two replicas: the counters live in Redis, so guesses spread over replicas add up. Neither
  // trusts a proxy (TRUST_PROXY unset): the socket address is the client, whatever the headers say.
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

  it('answers 429 with Retry-After once a username had too many failures from an address, on every replica', async () => {
    const victim = newCredentials('victim');
    await new ApiClient(urls[0] as string).register(victim);

    for (let attempt = 0; attempt < LIMIT; attempt++) {
      const response = await login(urls[attempt % 2] as string, victim.username, 'wrong password!');
      expect(response.status).toBe(401);
    }
    for (const url of urls) {
      const blocked = await login(url, victim.username, 'wrong password!');
      expect(blocked.status).toBe(429);
      expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
      // Even the right password waits, from the same address: otherwise the block would confirm
      // a lucky guess.
      expect((await login(url, victim.username, victim.password)).status).toBe(429);
    }
  });

  it('counts concurrent wrong guesses before checking them: at most the limit get 401', async () => {
    const victim = newCredentials('rushed');
    await new ApiClient(urls[0] as string).register(victim);

    const counts = tally(
      await burst(urls, BURST, (url) => login(url, victim.username, 'wrong password!')),
    );
    expect(counts.get(401) ?? 0).toBeGreaterThanOrEqual(1);
    expect(counts.get(401) ?? 0).toBeLessThanOrEqual(LIMIT);
    expect((counts.get(401) ?? 0) + (counts.get(429) ?? 0)).toBe(BURST);
  });

  it('ignores X-Forwarded-For from an untrusted peer: forging it escapes nothing', async () => {
    const victim = newCredentials('spoofed');
    await new ApiClient(urls[0] as string).register(victim);

    const counts = tally(
      await burst(urls, BURST, (url, i) =>
        login(url, victim.username, 'wrong password!', `203.0.113.${i + 1}`),
      ),
    );
    expect(counts.get(401) ?? 0).toBeLessThanOrEqual(LIMIT);
    expect((counts.get(401) ?? 0) + (counts.get(429) ?? 0)).toBe(BURST);
    // A fresh forged address is still the same client.
    expect(
      (await login(urls[0] as string, victim.username, victim.password, '192.0.2.1')).status,
    ).toBe(429);
  });

  it('never throttles successful logins, however many', async () => {
    const user = newCredentials('busy');
    await new ApiClient(urls[0] as string).register(user);
    for (let i = 0; i < 4 * LIMIT; i++) {
      expect((await login(urls[i % 2] as string, user.username, user.password)).status).toBe(200);
    }
  });
});

describe('behind a trusted proxy', () => {
  // One replica trusts one hop (Fastify), the other the loopback proxies by CIDR (Express): the
  // test plays the proxy, naming each client in X-Forwarded-For.
  const cluster = new TestCluster({
    suite: 'e2e',
    name: 'login-throttle-proxy',
    replicas: [
      { env: { TRUST_PROXY: '1' } },
      { env: { TRUST_PROXY: '127.0.0.0/8, ::1/128', HTTP_ADAPTER: 'express' } },
    ],
    env: {
      LOGIN_FAILURE_LIMIT: String(LIMIT),
      LOGIN_IP_FAILURE_LIMIT: String(IP_LIMIT),
      REGISTER_IP_LIMIT: String(REGISTER_LIMIT),
    },
  });
  let urls: string[];

  beforeAll(async () => {
    await cluster.start();
    urls = cluster.urls;
  });

  afterAll(() => cluster.stop());

  it('caps concurrent failures across usernames from one address at the address limit', async () => {
    const counts = tally(
      await burst(urls, BURST, (url, i) =>
        login(url, `nobody-${i}-${Date.now()}`, 'wrong password!', '198.51.100.10'),
      ),
    );
    expect(counts.get(401) ?? 0).toBeGreaterThanOrEqual(1);
    expect(counts.get(401) ?? 0).toBeLessThanOrEqual(IP_LIMIT);
    // Every other answer refuses too: 429, or 503 when the login bulkhead sheds a burst that a
    // busy machine cannot hash in time (README, "Login capacity").
    expect((counts.get(401) ?? 0) + (counts.get(429) ?? 0) + (counts.get(503) ?? 0)).toBe(BURST);
  });

  it('lets a user in with the right password while an attacker elsewhere is throttled on that username', async () => {
    const attacker = '203.0.113.66';
    const bystander = '192.0.2.20';
    const victim = newCredentials('bystander');
    expect((await post(urls[0] as string, '/auth/register', victim, bystander)).status).toBe(201);

    // The attacker hammers the victim's username, then its own address's budget on others.
    const onVictim = tally(
      await burst(urls, BURST, (url) => login(url, victim.username, 'wrong password!', attacker)),
    );
    expect(onVictim.get(401) ?? 0).toBeLessThanOrEqual(LIMIT);
    const elsewhere = tally(
      await burst(urls, BURST, (url, i) =>
        login(url, `other-${i}-${Date.now()}`, 'wrong password!', attacker),
      ),
    );
    expect(elsewhere.get(429) ?? 0).toBeGreaterThan(0);

    for (const url of urls) {
      // The attacker stays throttled, even with the right password from its address…
      expect((await login(url, victim.username, victim.password, attacker)).status).toBe(429);
      // …while the user, from their own address, gets in, and a typo of theirs is only a 401.
      expect((await login(url, victim.username, 'a typo, surely', bystander)).status).toBe(401);
      expect((await login(url, victim.username, victim.password, bystander)).status).toBe(200);
    }
  });

  it('throttles registrations per address: 429 with Retry-After beyond the limit', async () => {
    const flood = '198.51.100.77';
    const counts = tally(
      await burst(urls, 10, (url) => post(url, '/auth/register', newCredentials('flood'), flood)),
    );
    expect(counts.get(201) ?? 0).toBeGreaterThanOrEqual(1);
    expect(counts.get(201) ?? 0).toBeLessThanOrEqual(REGISTER_LIMIT);
    expect((counts.get(201) ?? 0) + (counts.get(429) ?? 0)).toBe(10);
    // Another address is not held back by that one.
    const other = await post(
      urls[1] as string,
      '/auth/register',
      newCredentials('calm'),
      '198.51.100.78',
    );
    expect(other.status).toBe(201);
  });
});
