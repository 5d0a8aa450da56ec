import { randomBytes, randomUUID, scryptSync } from 'node:crypto';
import { type ApiClient, newCredentials, TestCluster } from '@rescind/testing';

/** The stored user record, whatever its format. */
interface StoredUser {
  id: string;
  username: string;
  passwordHash?: string;
  salt?: string;
  hash?: string;
  cost?: number;
}

describe('users registered before Argon2id (scrypt hashes)', () => {
  const cluster = new TestCluster({ suite: 'e2e', name: 'password-rehash', replicas: 1 });
  let client: ApiClient;

  beforeAll(async () => {
    await cluster.start();
    client = cluster.clients[0] as ApiClient;
  });

  afterAll(() => cluster.stop());

  const key = (username: string): string => `${cluster.prefix}:user:${username.toLowerCase()}`;

  async function stored(username: string): Promise<StoredUser> {
    return JSON.parse(await cluster.redis.cli('GET', key(username))) as StoredUser;
  }

  it('log in, and their record is re-hashed to Argon2id at once, keeping their id', async () => {
    const { username, password } = newCredentials('legacy');
    // What the scrypt hasher wrote: N = 16384 (its old default), r = 8, p = 1, 32-byte key.
    const salt = randomBytes(16);
    const legacy: StoredUser = {
      id: randomUUID(),
      username,
      salt: salt.toString('base64'),
      hash: scryptSync(password, salt, 32, { N: 16384, r: 8, p: 1 }).toString('base64'),
      cost: 16384,
    };
    await cluster.redis.cli('SET', key(username), JSON.stringify(legacy));

    expect((await client.loginAnswer({ username, password: 'wrong password!' })).status).toBe(401);
    expect(await stored(username)).toEqual(legacy);

    const token = await client.login({ username, password });
    const upgraded = await stored(username);
    expect(upgraded).toEqual({
      id: legacy.id,
      username,
      passwordHash: expect.stringMatching(/^\$argon2id\$v=19\$m=1024,t=2,p=1\$/),
    });
    const me = await client.me(token);
    expect(me.status).toBe(200);

    // The new hash verifies too, and is not rewritten by later logins.
    await client.login({ username, password });
    expect(await stored(username)).toEqual(upgraded);
  });

  it('register new users with Argon2id directly', async () => {
    const credentials = newCredentials('fresh');
    await client.register(credentials);
    expect((await stored(credentials.username)).passwordHash).toMatch(/^\$argon2id\$/);
  });
});
