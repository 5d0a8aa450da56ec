import { type ExecutionContext, HttpException } from '@nestjs/common';
import {
  isJsonContentType,
  isSameOrigin,
  type RequestOrigin,
  SameSiteJsonGuard,
} from './same-site-json.guard';

function context(request: RequestOrigin): ExecutionContext {
  return {
    switchToHttp: () => ({ getRequest: () => request }),
  } as unknown as ExecutionContext;
}

function statusOf(guard: SameSiteJsonGuard, request: RequestOrigin): number {
  try {
    guard.canActivate(context(request));
    return 200;
  } catch (error) {
    if (error instanceof HttpException) return error.getStatus();
    throw error;
  }
}

describe('SameSiteJsonGuard', () => {
  describe('isSameOrigin', () => {
    it('compares host and port, whatever the scheme, default ports included', () => {
      expect(isSameOrigin('https://api.example.com', 'api.example.com')).toBe(true);
      expect(isSameOrigin('http://api.example.com', 'API.example.com')).toBe(true);
      expect(isSameOrigin('https://api.example.com', 'api.example.com:443')).toBe(true);
      expect(isSameOrigin('http://127.0.0.1:3001', '127.0.0.1:3001')).toBe(true);
      expect(isSameOrigin('http://[::1]:3001', '[::1]:3001')).toBe(true);
    });

    it('refuses another host or port, a null origin, other schemes and no host', () => {
      expect(isSameOrigin('https://evil.example', 'api.example.com')).toBe(false);
      expect(isSameOrigin('https://api.example.com.evil.example', 'api.example.com')).toBe(false);
      expect(isSameOrigin('http://127.0.0.1:3002', '127.0.0.1:3001')).toBe(false);
      expect(isSameOrigin('null', 'api.example.com')).toBe(false);
      expect(isSameOrigin('file:///etc', 'api.example.com')).toBe(false);
      expect(isSameOrigin('https://api.example.com', undefined)).toBe(false);
      expect(isSameOrigin('https://api.example.com', 'a b')).toBe(false);
    });
  });

  it('knows JSON media types', () => {
    expect(isJsonContentType('application/json')).toBe(true);
    expect(isJsonContentType('Application/JSON; charset=utf-8')).toBe(true);
    expect(isJsonContentType('application/jsonx')).toBe(false);
    expect(isJsonContentType('text/plain')).toBe(false);
  });

  it('answers 403 to a request marked cross-site, 415 to a body that is not JSON', () => {
    const login = new SameSiteJsonGuard({ bodyRequired: true });
    const json = { 'content-type': 'application/json' };
    const host = 'api.example.com';
    expect(statusOf(login, { headers: json, host })).toBe(200);
    expect(statusOf(login, { headers: { ...json, origin: 'https://api.example.com' }, host })).toBe(
      200,
    );
    expect(statusOf(login, { headers: { ...json, 'sec-fetch-site': 'same-origin' }, host })).toBe(
      200,
    );
    expect(statusOf(login, { headers: { ...json, 'sec-fetch-site': 'Cross-Site' }, host })).toBe(
      403,
    );
    expect(statusOf(login, { headers: { ...json, origin: 'https://evil.example' }, host })).toBe(
      403,
    );
    expect(statusOf(login, { headers: {}, host })).toBe(415);
    expect(statusOf(login, { headers: { 'content-type': 'text/plain' }, host })).toBe(415);

    const logout = new SameSiteJsonGuard({ bodyRequired: false });
    expect(statusOf(logout, { headers: {}, host })).toBe(200);
    expect(statusOf(logout, { headers: { 'content-type': 'text/plain' }, host })).toBe(415);
  });
});
