import { randomBytes, scryptSync } from 'node:crypto';
import { loadApiConfig } from '@rescind/config';
import { type IssuedToken, type TokenService } from '@rescind/revocation-nest';
import { AuthService } from './auth.service';
import { BadCredentialsError } from './auth.errors';
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

function serviceWith(user: User, replace: () => Promise<boolean>) {
  const record: UserRecord = { user, stored: JSON.stringify(user) };
  const users = {
    findRecord: jest.fn(async () => record),
    replacePasswordHash: jest.fn(async (_record: UserRecord, _hash: PasswordHash) => replace()),
  };
  const tokens = {
    issue: jest.fn(async () => ({ token: 't' }) as unknown as IssuedToken),
  };
  const throttle = {
    begin: jest.fn(async () => ({ succeeded: async () => {} })),
  };
  const registrations = { take: jest.fn(async () => {}) };
  const hasher = new PasswordHasher(loadApiConfig({ PASSWORD_HASH_COST: '1024' }));
  const service = new AuthService(
    users as unknown as UserRepository,
    hasher,
    tokens as unknown as TokenService,
    throttle as unknown as LoginThrottle,
    registrations as unknown as RegisterThrottle,
  );
  return { service, users, tokens, hasher };
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
      token: 't',
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
      ).resolves.toEqual({ token: 't' });
      expect(users.replacePasswordHash).toHaveBeenCalledTimes(1);
    }
  });

  it('neither upgrades on a wrong password nor re-hashes a current hash', async () => {
    const { service, users } = serviceWith(legacyUser(), async () => true);
    await expect(
      service.login({ username: 'alice', password: 'wrong horse' }, '::1'),
    ).rejects.toThrow(BadCredentialsError);
    expect(users.replacePasswordHash).not.toHaveBeenCalled();

    const hasher = new PasswordHasher(loadApiConfig({ PASSWORD_HASH_COST: '1024' }));
    const current: User = { id: 'u2', username: 'bob', ...(await hasher.hash('correct horse')) };
    const second = serviceWith(current, async () => true);
    await second.service.login({ username: 'bob', password: 'correct horse' }, '::1');
    expect(second.users.replacePasswordHash).not.toHaveBeenCalled();
  });
});
