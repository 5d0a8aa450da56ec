import { randomBytes, scryptSync } from 'node:crypto';
import { loadApiConfig } from '@rescind/config';
import { type IssuedSession, type SessionService } from '@rescind/revocation-nest';
import { AuthService } from './auth.service';
import { Registry } from 'prom-client';
import { BadCredentialsError, LoginOverloadedError } from './auth.errors';
import { HashBulkhead } from './hash-bulkhead';
import { type LoginThrottle, type RegisterThrottle } from './login-throttle';
import {
  type LegacyScryptPasswordHash,
  type PasswordHash,
  PasswordHasher,
} from './password-hasher';
import { type User, type UserRecord, type UserRepository } from './user.repository';

/** A record as the scrypt hasher stored it before Argon2id (N = 1024, r = 8, p = 1). */
function legacyScryptHash(password: string): LegacyScryptPasswordHash {
  const salt = randomBytes(16);
  const key = scryptSync(password, salt, 32, { N: 1024, r: 8, p: 1 });
  return { salt: salt.toString('base64'), hash: key.toString('base64'), cost: 1024 };
}

/** Every hasher made, so that their hashing threads stop with the suite. */
const hashers: PasswordHasher[] = [];
afterAll(() => Promise.all(hashers.map((hasher) => hasher.onModuleDestroy())));

function hasherWith(env: Record<string, string>): PasswordHasher {
  const config = loadApiConfig(env);
  const hasher = new PasswordHasher(config, new HashBulkhead(config, new Registry()));
  hashers.push(hasher);
  return hasher;
}

function serviceWith(user: User, replace: () => Promise<boolean>) {
  const record: UserRecord = { user, stored: JSON.stringify(user) };
  const users = {
    findRecord: jest.fn(async () => record),
    replacePasswordHash: jest.fn(async (_record: UserRecord, _hash: PasswordHash) => replace()),
    rememberId: jest.fn(async () => {}),
    usernameOf: jest.fn(async (id: string) => (id === user.id ? user.username : undefined)),
  };
  const sessions = {
    start: jest.fn(async () => ({ sid: 's' }) as unknown as IssuedSession),
    refresh: jest.fn(
      async (_token: string, claims: (sub: string) => Promise<Record<string, unknown>>) =>
        ({ sid: 's', access: await claims(user.id) }) as unknown as IssuedSession,
    ),
  };
  const throttle = {
    begin: jest.fn(async () => ({ succeeded: async () => {} })),
  };
  const registrations = { take: jest.fn(async () => {}) };
  const hasher = hasherWith({ PASSWORD_HASH_COST: '1024' });
  const service = new AuthService(
    users as unknown as UserRepository,
    hasher,
    sessions as unknown as SessionService,
    throttle as unknown as LoginThrottle,
    registrations as unknown as RegisterThrottle,
  );
  return { service, users, sessions, hasher };
}

const legacyUser = (): User => ({
  id: 'u1',
  username: 'alice',
  ...legacyScryptHash('correct horse'),
});

describe('AuthService.login', () => {
  it('upgrades a scrypt hash to Argon2id once the password is right', async () => {
    const { service, users, hasher } = serviceWith(legacyUser(), async () => true);
    await expect(
      service.login({ username: 'alice', password: 'correct horse' }, '::1'),
    ).resolves.toEqual({
      sid: 's',
    });
    expect(users.replacePasswordHash).toHaveBeenCalledTimes(1);
    const [, fresh] = users.replacePasswordHash.mock.calls[0] as [UserRecord, PasswordHash];
    expect(hasher.needsRehash(fresh)).toBe(false);
    expect(await hasher.verify('correct horse', fresh)).toBe(true);
  });

  it('still logs in when the upgrade fails or loses a race', async () => {
    for (const replace of [
      async () => {
        throw new Error('Redis went away');
      },
      async () => false,
    ]) {
      const { service, users } = serviceWith(legacyUser(), replace);
      await expect(
        service.login({ username: 'alice', password: 'correct horse' }, '::1'),
      ).resolves.toEqual({ sid: 's' });
      expect(users.replacePasswordHash).toHaveBeenCalledTimes(1);
    }
  });

  it('neither upgrades on a wrong password nor re-hashes a current hash', async () => {
    const { service, users } = serviceWith(legacyUser(), async () => true);
    await expect(
      service.login({ username: 'alice', password: 'wrong horse' }, '::1'),
    ).rejects.toThrow(BadCredentialsError);
    expect(users.replacePasswordHash).not.toHaveBeenCalled();

    const hasher = hasherWith({ PASSWORD_HASH_COST: '1024' });
    const current: User = { id: 'u2', username: 'bob', ...(await hasher.hash('correct horse')) };
    const second = serviceWith(current, async () => true);
    await second.service.login({ username: 'bob', password: 'correct horse' }, '::1');
    expect(second.users.replacePasswordHash).not.toHaveBeenCalled();
  });
});

describe('AuthService sessions', () => {
  it('starts a session at login with the username claim, the client context, and indexes the id', async () => {
    const { service, users, sessions } = serviceWith(legacyUser(), async () => true);
    await service.login({ username: 'alice', password: 'correct horse' }, '::1', {
      userAgent: 'test',
      ip: '127.0.0.1',
    });
    expect(users.rememberId).toHaveBeenCalledWith(expect.objectContaining({ id: 'u1' }));
    expect(sessions.start).toHaveBeenCalledWith(
      'u1',
      { username: 'alice' },
      { userAgent: 'test', ip: '127.0.0.1' },
    );
  });

  it('gives a refreshed access token the username found by the user id', async () => {
    const { service } = serviceWith(legacyUser(), async () => true);
    await expect(service.refresh('r'.repeat(43))).resolves.toMatchObject({
      access: { username: 'alice' },
    });
    await expect(service.claimsOf('unknown')).resolves.toEqual({});
  });
});

describe('AuthService when the login bulkhead refuses the hash', () => {
  function refusingService(full = false) {
    const overloaded = async (): Promise<never> => {
      throw new LoginOverloadedError(1);
    };
    const attempt = { succeeded: jest.fn(async () => {}), unchecked: jest.fn(async () => {}) };
    const throttle = { begin: jest.fn(async () => attempt) };
    const registrations = { take: jest.fn(async () => {}), giveBack: jest.fn(async () => {}) };
    const users = {
      findRecord: jest.fn(async () => ({ user: legacyUser(), stored: '' })),
      create: jest.fn(),
    };
    const hasher = {
      verify: jest.fn(overloaded),
      hash: jest.fn(overloaded),
      ensureRoom: jest.fn(() => {
        if (full) throw new LoginOverloadedError(1);
      }),
    };
    const service = new AuthService(
      users as unknown as UserRepository,
      hasher as unknown as PasswordHasher,
      {} as SessionService,
      throttle as unknown as LoginThrottle,
      registrations as unknown as RegisterThrottle,
    );
    return { service, attempt, throttle, registrations, users };
  }

  it('refuses before asking the throttle or the store anything when no slot is free', async () => {
    const { service, throttle, registrations, users } = refusingService(true);
    await expect(
      service.login({ username: 'alice', password: 'correct horse' }, '::1'),
    ).rejects.toThrow(LoginOverloadedError);
    await expect(
      service.register({ username: 'alice', password: 'correct horse' }, '::1'),
    ).rejects.toThrow(LoginOverloadedError);
    expect(throttle.begin).not.toHaveBeenCalled();
    expect(registrations.take).not.toHaveBeenCalled();
    expect(users.findRecord).not.toHaveBeenCalled();
  });

  it('answers the refusal, and the login counts as no failure', async () => {
    const { service, attempt } = refusingService();
    await expect(
      service.login({ username: 'alice', password: 'correct horse' }, '::1'),
    ).rejects.toThrow(LoginOverloadedError);
    expect(attempt.unchecked).toHaveBeenCalledTimes(1);
    expect(attempt.succeeded).not.toHaveBeenCalled();
  });

  it('answers the refusal, and the registration counts against no limit', async () => {
    const { service, registrations, users } = refusingService();
    await expect(
      service.register({ username: 'alice', password: 'correct horse' }, '::1'),
    ).rejects.toThrow(LoginOverloadedError);
    expect(registrations.giveBack).toHaveBeenCalledWith('::1');
    expect(users.create).not.toHaveBeenCalled();
  });
});
