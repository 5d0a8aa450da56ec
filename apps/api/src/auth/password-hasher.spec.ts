import { randomBytes, scryptSync } from 'node:crypto';
import { Algorithm, hash as argon2Hash } from '@node-rs/argon2';
import { loadApiConfig } from '@rescind/config';
import { Registry } from 'prom-client';
import { HashBulkhead } from './hash-bulkhead';
import { type LegacyScryptPasswordHash, PasswordHasher } from './password-hasher';

/** A record as the scrypt hasher stored it before Argon2id (N, r = 8, p = 1, 32-byte key). */
function legacyScryptHash(password: string, cost = 1024): LegacyScryptPasswordHash {
  const salt = randomBytes(16);
  const key = scryptSync(password, salt, 32, { N: cost, r: 8, p: 1 });
  return { salt: salt.toString('base64'), hash: key.toString('base64'), cost };
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

const hasherAt = (cost: number): PasswordHasher => hasherWith({ PASSWORD_HASH_COST: String(cost) });

describe('PasswordHasher', () => {
  const hasher = hasherAt(1024);

  it('hashes with Argon2id at PASSWORD_HASH_COST KiB, t = 2, p = 1, and a fresh salt', async () => {
    const first = await hasher.hash('correct horse');
    const second = await hasher.hash('correct horse');
    expect(first.passwordHash).toMatch(/^\$argon2id\$v=19\$m=1024,t=2,p=1\$[^$]{22}\$[^$]{43}$/);
    expect(second.passwordHash).not.toBe(first.passwordHash);
    expect(await hasher.verify('correct horse', first)).toBe(true);
    expect(await hasher.verify('correct horsf', first)).toBe(false);
  });

  it('uses OWASP’s minimum (m = 19456 KiB) by default', async () => {
    const stored = await hasherWith({}).hash('correct horse');
    expect(stored.passwordHash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  });

  it('still verifies the scrypt records stored before Argon2id', async () => {
    const stored = legacyScryptHash('correct horse');
    expect(await hasher.verify('correct horse', stored)).toBe(true);
    expect(await hasher.verify('wrong horse!', stored)).toBe(false);
    expect(await hasher.verify('correct horse', { ...stored, cost: 1000 })).toBe(false);
  });

  it('accepts no password without a stored hash, and none against a corrupt one', async () => {
    expect(await hasher.verify('correct horse', undefined)).toBe(false);
    expect(await hasher.verify('correct horse', { passwordHash: '$argon2id$garbage' })).toBe(false);
  });

  describe('needsRehash', () => {
    it('upgrades scrypt, a weaker Argon2 and another variant, but keeps equal or stronger', async () => {
      expect(hasher.needsRehash(legacyScryptHash('correct horse'))).toBe(true);
      expect(hasher.needsRehash(await hasherAt(512).hash('correct horse'))).toBe(true);
      expect(hasher.needsRehash(await hasher.hash('correct horse'))).toBe(false);
      expect(hasher.needsRehash(await hasherAt(2048).hash('correct horse'))).toBe(false);
      const onePass = await argon2Hash('correct horse', { memoryCost: 1024, timeCost: 1 });
      expect(hasher.needsRehash({ passwordHash: onePass })).toBe(true);
      const argon2i = await argon2Hash('correct horse', {
        memoryCost: 1024,
        timeCost: 2,
        algorithm: Algorithm.Argon2i,
      });
      expect(hasher.needsRehash({ passwordHash: argon2i })).toBe(true);
      expect(await hasher.verify('correct horse', { passwordHash: argon2i })).toBe(true);
      expect(hasher.needsRehash({ passwordHash: 'not a hash' })).toBe(true);
    });
  });
});
