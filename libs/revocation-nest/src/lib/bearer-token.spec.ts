import { extractBearerToken, MAX_TOKEN_LENGTH } from './bearer-token';

const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl';

describe('extractBearerToken', () => {
  describe('from the Authorization header (RFC 6750 §2.1)', () => {
    it.each(['Bearer', 'bearer', 'BEARER', 'bEaReR'])('accepts the scheme spelled %s', (scheme) => {
      expect(extractBearerToken({ authorization: `${scheme} ${JWT}` })).toBe(JWT);
    });

    it('tolerates several spaces before and trailing spaces after the token', () => {
      expect(extractBearerToken({ authorization: `Bearer   ${JWT}  ` })).toBe(JWT);
    });

    it('accepts every b64token character, with trailing padding', () => {
      const token = 'Az09-._~+/==';
      expect(extractBearerToken({ authorization: `Bearer ${token}` })).toBe(token);
    });

    it.each([
      ['no token', 'Bearer'],
      ['only spaces', 'Bearer   '],
      ['two tokens', `Bearer ${JWT} ${JWT}`],
      ['a character outside b64token', `Bearer ${JWT}%`],
      ['padding in the middle', 'Bearer ab=cd'],
      ['a tab instead of a space', `Bearer\t${JWT}`],
    ])('answers "" (malformed) for %s', (_case, authorization) => {
      expect(extractBearerToken({ authorization })).toBe('');
    });

    it('answers "" for an oversized token, but accepts one of the maximum length', () => {
      const longest = 'a'.repeat(MAX_TOKEN_LENGTH);
      expect(extractBearerToken({ authorization: `Bearer ${longest}` })).toBe(longest);
      expect(extractBearerToken({ authorization: `Bearer ${longest}a` })).toBe('');
    });

    it('ignores another scheme, falling back to the cookie', () => {
      expect(extractBearerToken({ authorization: 'Basic dXNlcjpwYXNz' })).toBeUndefined();
      expect(
        extractBearerToken({ authorization: 'Basic dXNlcjpwYXNz', cookie: `access_token=${JWT}` }),
      ).toBe(JWT);
    });

    it('does not take a scheme that merely starts with "Bearer"', () => {
      expect(extractBearerToken({ authorization: `BearerX ${JWT}` })).toBeUndefined();
    });

    it('ignores an empty header', () => {
      expect(extractBearerToken({ authorization: '' })).toBeUndefined();
    });
  });

  describe('from the access_token cookie', () => {
    it('reads it alone or among other cookies', () => {
      expect(extractBearerToken({ cookie: `access_token=${JWT}` })).toBe(JWT);
      expect(extractBearerToken({ cookie: `theme=dark; access_token=${JWT}; lang=en` })).toBe(JWT);
      expect(extractBearerToken({ cookie: `theme=dark;access_token=${JWT}` })).toBe(JWT);
    });

    it('does not confuse another cookie whose name ends in access_token', () => {
      expect(extractBearerToken({ cookie: `my_access_token=${JWT}` })).toBeUndefined();
    });

    it('answers "" for an empty or oversized value', () => {
      expect(extractBearerToken({ cookie: 'access_token=' })).toBe('');
      expect(
        extractBearerToken({ cookie: `access_token=${'a'.repeat(MAX_TOKEN_LENGTH + 1)}` }),
      ).toBe('');
    });
  });

  describe('when both are present', () => {
    it('prefers the Authorization header', () => {
      expect(
        extractBearerToken({ authorization: `Bearer ${JWT}`, cookie: 'access_token=other' }),
      ).toBe(JWT);
    });

    it('does not fall back to the cookie when the header is a malformed Bearer', () => {
      expect(
        extractBearerToken({ authorization: 'Bearer a b', cookie: `access_token=${JWT}` }),
      ).toBe('');
    });
  });

  it('answers undefined when no token is presented', () => {
    expect(extractBearerToken({})).toBeUndefined();
    expect(extractBearerToken({ cookie: 'theme=dark' })).toBeUndefined();
    expect(extractBearerToken({ authorization: undefined, cookie: undefined })).toBeUndefined();
  });
});
