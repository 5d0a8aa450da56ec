import { parseStackConfig } from './stack-config';
import { type StackError } from './stack.error';

function configError(env: Record<string, string>): StackError {
  try {
    parseStackConfig(env);
  } catch (error) {
    return error as StackError;
  }
  throw new Error('expected a configuration error');
}

describe('parseStackConfig', () => {
  describe('the admin key', () => {
    it('is made up for the run when ADMIN_API_KEY is unset, differently each time', () => {
      const first = parseStackConfig({}).adminApiKey;
      expect(first.generated).toBe(true);
      expect(Buffer.from(first.value, 'base64url')).toHaveLength(32);
      expect(parseStackConfig({}).adminApiKey.value).not.toBe(first.value);
    });

    it('is the one set, directly or in a file the replicas read', () => {
      expect(parseStackConfig({ ADMIN_API_KEY: 'mine' }).adminApiKey).toEqual({
        value: 'mine',
        generated: false,
      });
      expect(parseStackConfig({ ADMIN_API_KEY_FILE: '/run/key' }).adminApiKey.generated).toBe(
        false,
      );
    });
  });

  describe("the children's log format", () => {
    it('is pretty when the stack writes to a terminal and LOG_FORMAT is unset', () => {
      expect(parseStackConfig({}, { stdoutIsTty: true }).childLogFormat).toBe('pretty');
      expect(parseStackConfig({}, { stdoutIsTty: false }).childLogFormat).toBeUndefined();
      expect(
        parseStackConfig({ LOG_FORMAT: 'json' }, { stdoutIsTty: true }).childLogFormat,
      ).toBeUndefined();
    });
  });

  it('defaults to three replicas on 3001-3003 and a private Redis', () => {
    expect(parseStackConfig({})).toMatchObject({
      apiPorts: [3001, 3002, 3003],
      redisUrl: undefined,
    });
  });

  it('starts the first API_REPLICAS of the listed ports', () => {
    expect(parseStackConfig({ API_REPLICAS: '2', API_PORTS: '4001, 4002,4003' }).apiPorts).toEqual([
      4001, 4002,
    ]);
  });

  it('treats empty values as unset', () => {
    expect(parseStackConfig({ API_REPLICAS: '', API_PORTS: ' ', REDIS_URL: '' })).toMatchObject({
      apiPorts: [3001, 3002, 3003],
      redisUrl: undefined,
    });
  });

  it('keeps a redis:// or rediss:// REDIS_URL', () => {
    expect(parseStackConfig({ REDIS_URL: 'rediss://:pw@redis.example:6380' }).redisUrl).toBe(
      'rediss://:pw@redis.example:6380',
    );
  });

  describe('when a value is invalid', () => {
    it.each([
      [{ API_REPLICAS: '0' }, /API_REPLICAS must hold integers from 1/],
      [{ API_REPLICAS: 'three' }, /API_REPLICAS .* got "three"/],
      [{ API_PORTS: '3001,70000' }, /API_PORTS .* to 65535, got "70000"/],
      [{ API_PORTS: '3001,,3002' }, /API_PORTS .* got ""/],
      [{ API_PORTS: '3001,3001,3002' }, /port 3001 twice/],
      [
        { API_REPLICAS: '4' },
        /API_REPLICAS is 4 but API_PORTS lists only 3 port\(s\) \(3001,3002,3003\)/,
      ],
      [{ API_PORTS: '4001,4002' }, /API_REPLICAS is 3 \(the default\) but API_PORTS lists only 2/],
      [
        { REDIS_URL: 'http://localhost:6379' },
        /REDIS_URL must start with redis:\/\/ or rediss:\/\//,
      ],
      [{ REDIS_URL: 'not a url :secret' }, /REDIS_URL is not a valid URL/],
    ])('rejects %j with one clear line', (env, message) => {
      const error = configError(env);
      expect(error.code).toBe('ERR_STACK_CONFIG');
      expect(error.message).toMatch(message);
      expect(error.message).not.toContain('\n');
      expect(error.message).not.toContain('secret');
    });
  });
});
