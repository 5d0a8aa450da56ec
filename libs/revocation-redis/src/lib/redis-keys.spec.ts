import { RedisKeys } from './redis-keys';

describe('RedisKeys', () => {
  describe('when built from a valid prefix', () => {
    const keys = new RedisKeys('rescind');

    it('derives every name from the prefix', () => {
      expect(keys).toMatchObject({
        prefix: 'rescind',
        index: 'rescind:rev:index',
        log: 'rescind:rev:log',
        seq: 'rescind:rev:seq',
        epoch: 'rescind:rev:epoch',
        channel: 'rescind:rev:events',
        maintenanceQueue: 'maintenance',
        tidyJob: 'tidy',
      });
    });

    it('names index members and records by kind', () => {
      expect(keys.member('token', 'jti-1')).toBe('t:jti-1');
      expect(keys.member('user', 'alice')).toBe('u:alice');
      expect(keys.record('token', 'jti-1')).toBe('rescind:rev:t:jti-1');
      expect(keys.record('user', 'alice')).toBe('rescind:rev:u:alice');
      expect(keys.member('session', 'sid-1')).toBe('s:sid-1');
      expect(keys.record('session', 'sid-1')).toBe('rescind:rev:s:sid-1');
    });

    it('keeps token, user and session records apart for the same id', () => {
      const records = new Set(
        (['token', 'user', 'session'] as const).map((kind) => keys.record(kind, 'x')),
      );
      expect(records.size).toBe(3);
    });

    it('names the record of an index member as record() does', () => {
      expect(keys.recordOfMember(keys.member('user', 'alice'))).toBe(keys.record('user', 'alice'));
      expect(keys.recordOfMember('t:jti-1')).toBe('rescind:rev:t:jti-1');
    });

    it('names the keys of sessions apart from one another and from revocations', () => {
      const names = [
        keys.session('x'),
        keys.sessionRefreshTokens('x'),
        keys.refreshToken('x'),
        keys.sessionsOf('x'),
        keys.sessionExpiries(),
        keys.record('token', 'x'),
        keys.record('user', 'x'),
        keys.record('session', 'x'),
      ];
      expect(new Set(names).size).toBe(names.length);
      expect(keys.session('sid')).toBe(`${keys.sessionStems().session}sid`);
      expect(keys.sessionsOf('alice')).toBe('rescind:sess:u:alice');
    });

    it('names the fleet presence keys apart from revocations and sessions', () => {
      expect(keys.presenceIndex).toBe('rescind:presence:index');
      expect(keys.presence('api1')).toBe('rescind:presence:r:api1');
      expect(keys.presence('api1').startsWith(keys.presenceStem())).toBe(true);
      expect(keys.presence('index')).not.toBe(keys.presenceIndex);
    });

    it('names one bridge position per peer region, apart from revocations', () => {
      expect(keys.bridgePosition('us')).toBe('rescind:region:bridge:us');
      expect(keys.bridgePosition('us')).not.toBe(keys.bridgePosition('ap'));
    });

    it('names nothing of the application (its users, its throttles)', () => {
      expect(Object.keys(RedisKeys.prototype)).not.toContain('user');
      expect('user' in keys || 'throttle' in keys).toBe(false);
    });

    it.each(['a', 'rescind-prod', 'app_1.v2', '{rvk}', 'tenant:eu-1', 'x'.repeat(64)])(
      'accepts the prefix %p',
      (prefix) => {
        expect(new RedisKeys(prefix).prefix).toBe(prefix);
      },
    );

    it('keeps a hash tag so that every key lands in one cluster slot', () => {
      const tagged = new RedisKeys('{rvk}');
      for (const key of [
        tagged.index,
        tagged.log,
        tagged.seq,
        tagged.epoch,
        tagged.record('token', 'j'),
        tagged.record('session', 's'),
        tagged.session('s'),
        tagged.sessionRefreshTokens('s'),
        tagged.refreshToken('d'),
        tagged.sessionsOf('alice'),
        tagged.sessionExpiries(),
        ...Object.values(tagged.sessionStems()),
      ]) {
        expect(key.startsWith('{rvk}:')).toBe(true);
      }
    });
  });

  describe('when the prefix is bad', () => {
    it.each(['', 'has space', 'star*', 'glob?', 'new\nline', 'ünïcode', 'x'.repeat(65), 'a/b'])(
      'rejects %p with a RangeError',
      (prefix) => {
        expect(() => new RedisKeys(prefix)).toThrow(RangeError);
      },
    );
  });
});
