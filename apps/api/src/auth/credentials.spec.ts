import { InvalidInputError } from '@rescind/revocation-core';
import { parseCredentials } from './credentials';

describe('parseCredentials', () => {
  it('accepts a username of 3-64 allowed characters and a password of 8-256', () => {
    expect(parseCredentials({ username: 'a.b_c-1', password: '12345678' })).toEqual({
      username: 'a.b_c-1',
      password: '12345678',
    });
    expect(parseCredentials({ username: 'x'.repeat(64), password: 'p'.repeat(256) })).toBeDefined();
  });

  it.each([
    ['not an object', 'alice'],
    ['null', null],
    ['an array', []],
    ['a missing username', { password: '12345678' }],
    ['a short username', { username: 'ab', password: '12345678' }],
    ['a long username', { username: 'x'.repeat(65), password: '12345678' }],
    ['a username with a space', { username: 'al ice', password: '12345678' }],
    ['a numeric username', { username: 12345, password: '12345678' }],
    ['a short password', { username: 'alice', password: '1234567' }],
    ['a long password', { username: 'alice', password: 'p'.repeat(257) }],
    ['a password that is not a string', { username: 'alice', password: 12345678 }],
  ])('rejects %s with ERR_INVALID_INPUT', (_label, body) => {
    expect(() => parseCredentials(body)).toThrow(InvalidInputError);
    expect(() => parseCredentials(body)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_INPUT' }),
    );
  });
});
