import { MalformedEventError } from './errors/malformed-event.error';
import { RescindError } from './errors/rescind.error';
import {
  EVENT_VERSION,
  parseLogEntry,
  parseRevocation,
  parseRevocationEvent,
  readLogEntry,
} from './revocation-event.parser';
import { isRevocationId, MAX_ID_LENGTH } from './revocation-id';

const tokenEvent = {
  v: 1,
  epoch: '6f1c2a4e-8d0b-4c1e-9a57-2b1f0f6d3c11',
  seq: 7,
  logId: '1700000000000-0',
  kind: 'token',
  id: 'jti-123',
  expiresAtMs: 1_700_000_900_000,
  createdAtMs: 1_700_000_000_000,
};

const userEvent = {
  v: 1,
  epoch: 'epoch-2',
  seq: 8,
  logId: '1700000000001-3',
  kind: 'user',
  id: 'user-42',
  cutoffMs: 1_700_000_000_000,
  expiresAtMs: 1_700_000_900_000,
  createdAtMs: 1_700_000_000_000,
};

function without<T extends object>(value: T, ...keys: (keyof T)[]): Partial<T> {
  const copy: Partial<T> = { ...value };
  for (const key of keys) delete copy[key];
  return copy;
}

function deeplyNested(depth: number): Record<string, unknown> {
  let value: Record<string, unknown> = {};
  for (let i = 0; i < depth; i++) value = { id: value, kind: value, nested: value };
  return value;
}

function malformedCode(input: unknown): string | undefined {
  try {
    parseRevocationEvent(input);
  } catch (error) {
    expect(error).toBeInstanceOf(MalformedEventError);
    expect(error).toBeInstanceOf(RescindError);
    return (error as MalformedEventError).code;
  }
  return undefined;
}

describe('parseRevocationEvent', () => {
  it('reads wire format version 1', () => {
    expect(EVENT_VERSION).toBe(1);
  });

  describe('when the event is valid', () => {
    it('parses a token event', () => {
      expect(parseRevocationEvent(tokenEvent)).toEqual({
        kind: 'token',
        id: 'jti-123',
        expiresAtMs: 1_700_000_900_000,
        createdAtMs: 1_700_000_000_000,
        epoch: tokenEvent.epoch,
        seq: 7,
        logId: '1700000000000-0',
      });
    });

    it('reads an event of a later version by the fields it knows (a rolling upgrade)', () => {
      expect(parseRevocationEvent({ ...tokenEvent, v: 2, sid: 'new-field' })).toMatchObject({
        kind: 'token',
        id: 'jti-123',
        seq: 7,
      });
    });

    it('parses a user event with its cut-off', () => {
      expect(parseRevocationEvent(userEvent)).toEqual({
        kind: 'user',
        id: 'user-42',
        cutoffMs: 1_700_000_000_000,
        expiresAtMs: 1_700_000_900_000,
        createdAtMs: 1_700_000_000_000,
        epoch: 'epoch-2',
        seq: 8,
        logId: '1700000000001-3',
      });
    });

    it('parses a session event', () => {
      expect(parseRevocationEvent({ ...tokenEvent, kind: 'session', id: 'sid-1' })).toEqual({
        kind: 'session',
        id: 'sid-1',
        expiresAtMs: 1_700_000_900_000,
        createdAtMs: 1_700_000_000_000,
        epoch: tokenEvent.epoch,
        seq: 7,
        logId: '1700000000000-0',
      });
    });

    it('drops a cut-off from a session event, which has none', () => {
      const parsed = parseRevocationEvent({ ...userEvent, kind: 'session' });
      expect(parsed.kind).toBe('session');
      expect(parsed).not.toHaveProperty('cutoffMs');
    });

    it('keeps the id of the entry it follows, when the event names it', () => {
      const linked = { ...tokenEvent, prevLogId: '1699999999999-4' };
      expect(parseRevocationEvent(linked).prevLogId).toBe('1699999999999-4');
      expect(parseRevocationEvent(tokenEvent)).not.toHaveProperty('prevLogId');
    });

    it('parses what JSON.stringify made of it', () => {
      expect(parseRevocationEvent(JSON.parse(JSON.stringify(userEvent)))).toEqual(
        parseRevocationEvent(userEvent),
      );
    });

    it('drops fields it does not know, so that they never reach the cache', () => {
      const parsed = parseRevocationEvent({ ...tokenEvent, reason: 'stolen', cutoffMs: 5, v: 1 });
      expect(parsed).not.toHaveProperty('reason');
      expect(parsed).not.toHaveProperty('cutoffMs');
      expect(parsed).not.toHaveProperty('v');
    });

    it('accepts ids of exactly 256 printable characters', () => {
      const id = '!~'.repeat(MAX_ID_LENGTH / 2);
      expect(parseRevocationEvent({ ...tokenEvent, id }).id).toBe(id);
    });

    it('accepts zero timestamps (they are merely expired)', () => {
      expect(() =>
        parseRevocationEvent({ ...userEvent, cutoffMs: 0, createdAtMs: 0 }),
      ).not.toThrow();
    });
  });

  describe('when the event is malformed', () => {
    it.each<[string, unknown]>([
      ['a missing id', without(tokenEvent, 'id')],
      ['an empty id', { ...tokenEvent, id: '' }],
      ['an id with a space', { ...tokenEvent, id: 'jti 123' }],
      ['an id with a newline', { ...tokenEvent, id: 'jti\n123' }],
      ['an id with a non-ASCII character', { ...tokenEvent, id: 'jtié' }],
      ['an id longer than 256 characters', { ...tokenEvent, id: 'x'.repeat(MAX_ID_LENGTH + 1) }],
      ['a numeric id', { ...tokenEvent, id: 123 }],
      ['a non-integer expiresAtMs', { ...tokenEvent, expiresAtMs: 1.5 }],
      ['a negative expiresAtMs', { ...tokenEvent, expiresAtMs: -1 }],
      ['an expiresAtMs as a string', { ...tokenEvent, expiresAtMs: '1700000900000' }],
      ['an infinite expiresAtMs', { ...tokenEvent, expiresAtMs: Number.POSITIVE_INFINITY }],
      ['an unsafe integer expiresAtMs', { ...tokenEvent, expiresAtMs: 2 ** 53 }],
      ['a NaN createdAtMs', { ...tokenEvent, createdAtMs: Number.NaN }],
      ['a missing createdAtMs', { ...tokenEvent, createdAtMs: undefined }],
      ['a user event without a cut-off', without(userEvent, 'cutoffMs')],
      ['a negative cut-off', { ...userEvent, cutoffMs: -5 }],
      ['a fractional cut-off', { ...userEvent, cutoffMs: 1.25 }],
      ['an unknown kind', { ...tokenEvent, kind: 'device' }],
      ['a kind in another case', { ...tokenEvent, kind: 'Session' }],
      ['a missing kind', { ...tokenEvent, kind: undefined }],
      ['a missing version', without(tokenEvent, 'v')],
      ['version 0', { ...tokenEvent, v: 0 }],
      ['a fractional version', { ...tokenEvent, v: 1.5 }],
      ['version "1" as a string', { ...tokenEvent, v: '1' }],
      ['a missing epoch', { ...tokenEvent, epoch: undefined }],
      ['an empty epoch', { ...tokenEvent, epoch: '' }],
      ['an epoch with a quote', { ...tokenEvent, epoch: 'a"b' }],
      ['an epoch longer than 64 characters', { ...tokenEvent, epoch: 'e'.repeat(65) }],
      ['a numeric epoch', { ...tokenEvent, epoch: 42 }],
      ['seq 0', { ...tokenEvent, seq: 0 }],
      ['a negative seq', { ...tokenEvent, seq: -1 }],
      ['a fractional seq', { ...tokenEvent, seq: 1.5 }],
      ['a seq as a string', { ...tokenEvent, seq: '7' }],
      ['a missing logId', without(tokenEvent, 'logId')],
      ['a logId without a sequence part', { ...tokenEvent, logId: '1700000000000' }],
      ['a logId with letters', { ...tokenEvent, logId: 'abc-0' }],
      ['a logId with an exclusive-range prefix', { ...tokenEvent, logId: '(1700000000000-0' }],
      ['a special logId', { ...tokenEvent, logId: '*' }],
      ['a prevLogId with letters', { ...tokenEvent, prevLogId: 'abc-0' }],
      ['a numeric prevLogId', { ...tokenEvent, prevLogId: 1700000000000 }],
      ['a null prevLogId', { ...tokenEvent, prevLogId: null }],
      ['an array', [tokenEvent]],
      ['an empty array', []],
      ['null', null],
      ['undefined', undefined],
      ['a string', JSON.stringify(tokenEvent)],
      ['a number', 42],
      ['a boolean', true],
      ['an empty object', {}],
      ['a deeply nested object', deeplyNested(10_000)],
      ['an object as the id', { ...tokenEvent, id: deeplyNested(1_000) }],
      ['an object as the expiry', { ...tokenEvent, expiresAtMs: { valueOf: () => 5 } }],
    ])('rejects %s with ERR_EVENT_MALFORMED', (_what, input) => {
      expect(malformedCode(input)).toBe('ERR_EVENT_MALFORMED');
    });

    it('names the field that is wrong in the message', () => {
      expect(() => parseRevocationEvent({ ...tokenEvent, seq: 0 })).toThrow(/seq/);
      expect(() => parseRevocationEvent({ ...tokenEvent, id: '' })).toThrow(/id/);
    });

    it('rejects a huge object quickly, without walking into it', () => {
      const huge: Record<string, unknown> = {};
      for (let i = 0; i < 100_000; i++) huge[`k${i}`] = { nested: [i, { i }] };
      const started = performance.now();
      expect(malformedCode(huge)).toBe('ERR_EVENT_MALFORMED');
      expect(performance.now() - started).toBeLessThan(250);
    });
  });
});

describe('parseRevocation', () => {
  it('parses a revocation without a log position', () => {
    const revocation = without(userEvent, 'v', 'epoch', 'seq', 'logId');
    expect(parseRevocation(revocation)).toEqual(revocation);
  });

  it('ignores audit fields kept with a stored record', () => {
    expect(
      parseRevocation({ kind: 'token', id: 'j', expiresAtMs: 2, createdAtMs: 1, reason: 'x' }),
    ).toEqual({ kind: 'token', id: 'j', expiresAtMs: 2, createdAtMs: 1 });
  });

  it('rejects a bad revocation with ERR_EVENT_MALFORMED', () => {
    expect(() =>
      parseRevocation({ kind: 'token', id: 'j', expiresAtMs: -2, createdAtMs: 1 }),
    ).toThrow(
      expect.objectContaining({ code: 'ERR_EVENT_MALFORMED', name: 'MalformedEventError' }),
    );
  });
});

describe('parseLogEntry', () => {
  const body = (event: object): string => {
    const { logId: _logId, ...rest } = event as { logId?: string };
    return JSON.stringify(rest);
  };

  it('reads a logged event with the stream id it was stored under', () => {
    expect(parseLogEntry(body(tokenEvent), '5-0')).toMatchObject({ kind: 'token', logId: '5-0' });
  });

  it.each<[string, string | undefined]>([
    ['no body', undefined],
    ['a body that is not JSON', '{"v":1,'],
    ['JSON null', 'null'],
    ['a number', '42'],
  ])('never throws on %s: the entry is unreadable, with no number', (_what, raw) => {
    expect(parseLogEntry(raw, '5-0')).toEqual({
      kind: 'unreadable',
      logId: '5-0',
      reason: expect.any(String),
    });
  });

  it('keeps the sequence number of an entry whose kind it does not know', () => {
    expect(parseLogEntry(body({ ...tokenEvent, v: 2, kind: 'device' }), '5-0')).toEqual({
      kind: 'unreadable',
      logId: '5-0',
      seq: 7,
      reason: 'Malformed revocation event: unknown kind',
    });
  });

  it('keeps the id of the entry it follows, when it has a number and the id is well formed', () => {
    const newer = { ...tokenEvent, v: 2, kind: 'device' };
    expect(parseLogEntry(body({ ...newer, prevLogId: '4-0' }), '5-0')).toMatchObject({
      seq: 7,
      prevLogId: '4-0',
    });
    expect(parseLogEntry(body({ ...newer, prevLogId: 'x' }), '5-0')).not.toHaveProperty(
      'prevLogId',
    );
  });
});

describe('readLogEntry (an entry the store already decoded)', () => {
  const { logId: _logId, ...decoded } = tokenEvent as typeof tokenEvent & { logId?: string };

  it('validates the decoded object with the stream id it was stored under', () => {
    expect(readLogEntry(decoded, '5-0')).toEqual(parseLogEntry(JSON.stringify(decoded), '5-0'));
    expect(readLogEntry(decoded, '5-0')).toMatchObject({ kind: 'token', logId: '5-0' });
  });

  it.each<[string, unknown]>([
    ['nothing', undefined],
    ['null', null],
    ['a string', 'x'],
    ['numbers left as text', { ...decoded, expiresAtMs: '1900000000000' }],
  ])('never throws on %s: the entry is unreadable', (_what, raw) => {
    expect(readLogEntry(raw, '5-0')).toMatchObject({ kind: 'unreadable', logId: '5-0' });
  });

  it('takes the stream id over a log id among the fields, and says when there is no object', () => {
    expect(readLogEntry({ ...decoded, logId: '9-9' }, '5-0')).toMatchObject({ logId: '5-0' });
    expect(readLogEntry(null, '5-0')).toEqual({
      kind: 'unreadable',
      logId: '5-0',
      reason: 'Malformed revocation event: not an object',
    });
  });

  it('keeps the position an unreadable entry took', () => {
    expect(readLogEntry({ ...decoded, kind: 'device', prevLogId: '4-0' }, '5-0')).toEqual({
      kind: 'unreadable',
      logId: '5-0',
      seq: 7,
      prevLogId: '4-0',
      reason: 'Malformed revocation event: unknown kind',
    });
  });
});

describe('isRevocationId', () => {
  it.each(['a', 'jti-1', '550e8400-e29b-41d4-a716-446655440000', 'a:b', 'x'.repeat(MAX_ID_LENGTH)])(
    'accepts %p',
    (id) => {
      expect(isRevocationId(id)).toBe(true);
    },
  );

  it.each(['', ' ', 'a b', 'a\tb', 'ä', '\u0000', 'x'.repeat(MAX_ID_LENGTH + 1), 1, null, {}])(
    'rejects %p',
    (id) => {
      expect(isRevocationId(id)).toBe(false);
    },
  );
});
