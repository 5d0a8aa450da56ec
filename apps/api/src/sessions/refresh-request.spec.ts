import { BadRequestException } from '@nestjs/common';
import { refreshTokenOf } from './refresh-request';
import { cookieValue } from './session-cookies';

const TOKEN = 'a'.repeat(43);

describe('refreshTokenOf', () => {
  it('takes the JSON body’s refresh_token first, then the refresh_token cookie', () => {
    const cookie = { cookie: `access_token=x.y.z; refresh_token=${'c'.repeat(43)}` };
    expect(refreshTokenOf({ refresh_token: TOKEN }, cookie)).toBe(TOKEN);
    expect(refreshTokenOf(undefined, cookie)).toBe('c'.repeat(43));
    expect(refreshTokenOf({}, cookie)).toBe('c'.repeat(43));
  });

  it('leaves the shape to SessionService: a malformed string passes through', () => {
    expect(refreshTokenOf({ refresh_token: 'x.y.z' }, {})).toBe('x.y.z');
  });

  it.each([
    ['no body and no cookie', undefined],
    ['an empty object', {}],
    ['an empty token', { refresh_token: '' }],
    ['a number', { refresh_token: 7 }],
    ['an array of tokens', { refresh_token: [TOKEN] }],
    ['a JSON array', [TOKEN]],
    ['a JSON string', TOKEN],
  ])('answers invalid_request for %s', (_name, body) => {
    expect(() => refreshTokenOf(body, {})).toThrow(BadRequestException);
    try {
      refreshTokenOf(body, {});
    } catch (error) {
      expect((error as BadRequestException).getResponse()).toMatchObject({
        error: 'invalid_request',
      });
    }
  });
});

describe('cookieValue', () => {
  it('finds a cookie by its exact name, the first one winning', () => {
    const headers = { cookie: 'xrefresh_token=no; refresh_token=yes; refresh_token=later' };
    expect(cookieValue(headers, 'refresh_token')).toBe('yes');
    expect(cookieValue(headers, 'access_token')).toBeUndefined();
    expect(cookieValue({}, 'refresh_token')).toBeUndefined();
  });
});
