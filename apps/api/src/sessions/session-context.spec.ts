import { clientContext, USER_AGENT_MAX_LENGTH } from './session-context';

describe('clientContext', () => {
  it('keeps the user agent, printable and cut, and the address as the throttles see it', () => {
    expect(clientContext({ 'user-agent': 'curl/8.0' }, '::ffff:10.1.2.3')).toEqual({
      userAgent: 'curl/8.0',
      ip: '10.1.2.3',
    });
    const long = clientContext({ 'user-agent': `a\u0000b\n${'x'.repeat(1000)}` }, '::1');
    expect(long.userAgent).toHaveLength(USER_AGENT_MAX_LENGTH);
    expect(long.userAgent?.startsWith('abx')).toBe(true);
    expect(long.ip).toBe('::1');
  });

  it('leaves out what the request does not say', () => {
    expect(clientContext({}, undefined)).toEqual({});
    expect(clientContext({ 'user-agent': '\u0001' }, '')).toEqual({});
  });
});
