import { RedisKeys } from '@rescind/revocation-redis';
import { ApiKeys } from './api-keys';

describe('ApiKeys', () => {
  const keys = new ApiKeys(new RedisKeys('rescind'));

  it('names user accounts and throttles under the prefix, outside the revocation keys', () => {
    expect(keys.user('alice')).toBe('rescind:user:alice');
    expect(keys.throttle('login-ip')).toBe('rescind:throttle:login-ip');
    expect(keys.user('alice').startsWith('rescind:rev:')).toBe(false);
    expect(keys.userId('0b5e')).toBe('rescind:user-id:0b5e');
  });

  it('takes the prefix RedisKeys validated', () => {
    expect(() => new ApiKeys(new RedisKeys('has space'))).toThrow(RangeError);
    expect(new ApiKeys(new RedisKeys('{rvk}')).user('bob')).toBe('{rvk}:user:bob');
  });
});
