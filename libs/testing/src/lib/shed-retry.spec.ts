import { shedRetryDelayMs } from './api-client';

function answer(status: number, body: unknown, retryAfter?: string) {
  const headers = new Headers(retryAfter === undefined ? {} : { 'retry-after': retryAfter });
  return { status, headers, text: JSON.stringify(body), json: body };
}

describe('a set-up login the login bulkhead shed', () => {
  it('is asked again after its Retry-After', () => {
    expect(shedRetryDelayMs(answer(503, { error: 'ERR_LOGIN_OVERLOADED' }, '1'))).toBe(1000);
  });

  it('is the only answer retried: not another 503, nor one without Retry-After', () => {
    expect(shedRetryDelayMs(answer(503, { error: 'ERR_NOT_IN_SYNC' }, '1'))).toBeUndefined();
    expect(shedRetryDelayMs(answer(503, { error: 'ERR_LOGIN_OVERLOADED' }))).toBeUndefined();
    expect(shedRetryDelayMs(answer(429, { error: 'ERR_LOGIN_OVERLOADED' }, '1'))).toBeUndefined();
    expect(shedRetryDelayMs(answer(200, { access_token: 'x' }))).toBeUndefined();
  });
});
