import { InvalidInputError } from '@rescind/revocation-core';
import { publicBaseUrl } from './metadata.controller';
import { asksForJson } from './oauth.controller';

describe('the OAuth routes’ helpers', () => {
  it('asksForJson: only an Accept naming application/json with a non-zero weight', () => {
    for (const accept of ['application/json', 'text/html, Application/JSON;q=0.1']) {
      expect(asksForJson(accept)).toBe(true);
    }
    for (const accept of [undefined, '', '*/*', 'application/*', 'application/json;q=0']) {
      expect(asksForJson(accept)).toBe(false);
    }
  });

  it('publicBaseUrl: the scheme and host the request came in under, a bad host refused', () => {
    expect(publicBaseUrl({ protocol: 'https', host: 'API.example.com' })).toBe(
      'https://api.example.com',
    );
    expect(publicBaseUrl({ protocol: 'http', host: '127.0.0.1:3001' })).toBe(
      'http://127.0.0.1:3001',
    );
    expect(publicBaseUrl({ protocol: 'http', host: '[::1]:3001' })).toBe('http://[::1]:3001');
    for (const host of [undefined, '', 'a b', 'evil.example/path', 'x@y', 'host:port']) {
      expect(() => publicBaseUrl({ protocol: 'http', host })).toThrow(InvalidInputError);
    }
  });
});
