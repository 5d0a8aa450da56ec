import { checkHistory } from './checker';
import {
  type FaultEntry,
  type HistoryEntry,
  type OperationEntry,
  type ReadinessEntry,
  type RunEntry,
} from './history-entry';

// Hand-written histories. Times are small numbers of ms; only their order and gaps matter.

const RUN: RunEntry = {
  type: 'run',
  seed: 7,
  startedAt: 0,
  replicas: [
    { label: 'a', cacheMax: 1_000_000 },
    { label: 'b', cacheMax: 4 },
    { label: 'c', cacheMax: 1_000_000 },
  ],
  lanes: 2,
  faultKinds: ['pause-replica'],
  fanOutBoundMs: 100,
};
const LIVE = { type: 'liveness', at: 100_000, ok: true, detail: 'ok' } as const;

let nextId = 1;

function op(
  kind: OperationEntry['kind'],
  replica: string,
  sentAt: number,
  doneAt: number,
  status: number,
  subject: Partial<OperationEntry> = {},
): OperationEntry {
  return { type: 'op', id: nextId++, lane: 0, kind, replica, sentAt, doneAt, status, ...subject };
}

/** A login of user `sub` that returned token `jti`. */
function login(jti: string, sub: string, sentAt: number, doneAt: number): OperationEntry {
  return op('login', 'a', sentAt, doneAt, 200, { jti, sub, user: sub, exp: 1_000 });
}

function read(
  jti: string,
  sub: string,
  replica: string,
  sentAt: number,
  status: number,
): OperationEntry {
  return op('read', replica, sentAt, sentAt + 2, status, { jti, sub });
}

function fault(id: number, phase: FaultEntry['phase'], at: number, replicas: string[]): FaultEntry {
  return { type: 'fault', id, kind: 'pause-replica', phase, at, replicas, ok: true };
}

function ready(replica: string, isReady: boolean, sentAt: number): ReadinessEntry {
  return { type: 'ready', replica, ready: isReady, sentAt, doneAt: sentAt + 1 };
}

function check(...entries: HistoryEntry[]): ReturnType<typeof checkHistory> {
  return checkHistory([RUN, ...entries, LIVE]);
}

describe('checkHistory', () => {
  describe('a token revoked by its jti', () => {
    const base = [
      login('t1', 'u1', 0, 10),
      op('logout', 'a', 1_000, 1_010, 204, { jti: 't1', sub: 'u1' }),
    ];

    it('reports a 200 on another replica sent past the fan-out bound after the logout returned', () => {
      const late = read('t1', 'u1', 'b', 1_111, 200);
      const result = check(...base, late);
      expect(result.violations).toHaveLength(1);
      expect(result.violations[0]).toMatchObject({ read: late, boundMs: 100 });
      expect(result.violations[0]?.lateMs).toBeCloseTo(1);
      expect(result.judgedRevokedReads).toBe(1);
    });

    it('accepts a 200 on another replica sent within the bound, and does not judge it', () => {
      const result = check(...base, read('t1', 'u1', 'b', 1_109, 200));
      expect(result.violations).toEqual([]);
      expect(result.judgedRevokedReads).toBe(0);
      expect(result.latestFanOutAcceptanceMs).toBeCloseTo(99);
    });

    it('judges the replica that answered the revocation at once (read your revocation)', () => {
      const result = check(...base, read('t1', 'u1', 'a', 1_011, 200));
      expect(result.violations).toHaveLength(1);
      expect(result.violations[0]?.boundMs).toBe(0);
    });

    it('accepts a 200 for a read sent before the logout returned', () => {
      expect(check(...base, read('t1', 'u1', 'a', 1_005, 200)).violations).toEqual([]);
    });

    it('counts a 401 past the bound as a judged read, not a violation', () => {
      const result = check(...base, read('t1', 'u1', 'c', 5_000, 401));
      expect(result.violations).toEqual([]);
      expect(result.judgedRevokedReads).toBe(1);
      expect(result.revokedTokens).toBe(1);
    });

    it.each([
      ['an admin revocation', op('admin-revoke-jti', 'b', 1_000, 1_010, 201, { jti: 't1' })],
      ['an RFC 7009 revocation', op('oauth-revoke', 'b', 1_000, 1_010, 200, { jti: 't1' })],
    ])('treats %s like a logout', (_, revocation) => {
      const result = check(login('t1', 'u1', 0, 10), revocation, read('t1', 'u1', 'c', 2_000, 200));
      expect(result.violations).toHaveLength(1);
    });

    it('does not count a revocation answered 503 or not at all, whatever the reads say', () => {
      const result = check(
        login('t1', 'u1', 0, 10),
        op('logout', 'a', 1_000, 1_010, 503, { jti: 't1' }),
        op('oauth-revoke', 'b', 1_100, 5_100, 0, { jti: 't1', detail: 'timeout' }),
        read('t1', 'u1', 'c', 6_000, 200),
        read('t1', 'u1', 'c', 7_000, 401),
      );
      expect(result.violations).toEqual([]);
      expect(result.indeterminateRevocations).toBe(2);
      expect(result.revokedTokens).toBe(0);
      // The 401 may be the indeterminate revocation's effect: no "valid token rejected" either.
      expect(result.validRejected.unexplained.count).toBe(0);
    });

    it('does not count a logout refused with 401 as a revocation', () => {
      const result = check(
        login('t1', 'u1', 0, 10),
        op('logout', 'a', 1_000, 1_010, 401, { jti: 't1' }),
        read('t1', 'u1', 'c', 6_000, 200),
      );
      expect(result.violations).toEqual([]);
    });
  });

  describe('a user cut-off (logout-all, admin {sub})', () => {
    const cutOff = op('logout-all', 'a', 1_000, 2_000, 204, { sub: 'u1', jti: 'presented' });

    it('covers a token whose login returned before the call was sent', () => {
      const result = check(login('t1', 'u1', 0, 999), cutOff, read('t1', 'u1', 'b', 2_200, 200));
      expect(result.violations).toHaveLength(1);
      expect(result.violations[0]?.revocation).toBe(cutOff);
    });

    it('does not cover a token whose login was sent after the call returned', () => {
      const result = check(
        login('t2', 'u1', 2_001, 2_050),
        cutOff,
        read('t2', 'u1', 'b', 3_000, 200),
      );
      expect(result.violations).toEqual([]);
      expect(result.revokedTokens).toBe(0);
    });

    it('leaves a token whose login overlapped the call indeterminate: neither 200 nor 401 is judged', () => {
      const result = check(
        login('t3', 'u1', 900, 1_001),
        cutOff,
        read('t3', 'u1', 'b', 3_000, 200),
        read('t3', 'u1', 'c', 3_100, 401),
      );
      expect(result.violations).toEqual([]);
      expect(result.judgedRevokedReads).toBe(0);
      expect(result.validRejected.unexplained.count).toBe(0);
    });

    it('lets a cut-off without an answer explain a later rejection: it may take effect after it failed', () => {
      const result = check(
        op('logout-all', 'b', 1_000, 1_100, 0, { sub: 'u1', detail: 'UND_ERR_SOCKET' }),
        login('t5', 'u1', 1_200, 1_210),
        read('t5', 'u1', 'c', 1_300, 401),
      );
      expect(result.validRejected.unexplained.count).toBe(0);
      expect(result.indeterminateRevocations).toBe(1);
    });

    it('covers only that user', () => {
      const result = check(login('t4', 'u2', 0, 10), cutOff, read('t4', 'u2', 'b', 3_000, 200));
      expect(result.violations).toEqual([]);
    });

    it('treats an admin {sub} revocation the same way', () => {
      const result = check(
        login('t1', 'u1', 0, 10),
        op('admin-revoke-sub', 'c', 1_000, 2_000, 201, { sub: 'u1' }),
        read('t1', 'u1', 'c', 2_001, 200),
      );
      expect(result.violations).toHaveLength(1);
      expect(result.violations[0]?.boundMs).toBe(0);
    });
  });

  describe('a session ended (logout, DELETE /auth/sessions/:sid, a reuse revealed by a refresh)', () => {
    const REUSED = 'The refresh token was already used; its session has been revoked';
    /** A login of `sub` in session `sid` that returned `jti`. */
    const loginIn = (jti: string, sid: string, sentAt: number, doneAt: number) =>
      op('login', 'a', sentAt, doneAt, 200, { jti, sub: 'u1', sid, user: 'u1', exp: 1_000 });
    /** A refresh in session `sid` that issued `jti`. */
    const refreshIn = (jti: string, sid: string, sentAt: number, doneAt: number) =>
      op('refresh', 'b', sentAt, doneAt, 200, { jti, sub: 'u1', sid, exp: 1_000 });

    it.each([
      [
        'a logout of a sibling token',
        op('logout', 'a', 1_000, 1_010, 204, { jti: 't1', sid: 's1' }),
      ],
      [
        'a DELETE of the session',
        op('delete-session', 'a', 1_000, 1_010, 204, { jti: 't1', sid: 's1' }),
      ],
      [
        'a refresh that revealed a reuse',
        op('refresh-reuse', 'a', 1_000, 1_010, 401, { sid: 's1', detail: REUSED }),
      ],
      [
        'a concurrent refresh that revealed a reuse',
        op('refresh', 'a', 1_000, 1_010, 401, { sid: 's1', detail: REUSED }),
      ],
    ])('%s revokes every token of the session, the refreshed ones too', (_name, ending) => {
      const result = check(
        loginIn('t1', 's1', 0, 10),
        refreshIn('t2', 's1', 100, 110),
        ending,
        read('t2', 'u1', 'a', 1_011, 200),
        read('t2', 'u1', 'c', 1_111, 200),
        read('t1', 'u1', 'b', 1_200, 401),
      );
      expect(result.violations.map((v) => [v.read.replica, v.boundMs])).toEqual([
        ['a', 0],
        ['c', 100],
      ]);
      expect(result.revokedTokens).toBe(2);
      expect(result.validRejected.unexplained.count).toBe(0);
    });

    it('covers a token issued by a refresh that overlapped the ending, or returned after it', () => {
      const result = check(
        loginIn('t1', 's1', 0, 10),
        op('delete-session', 'a', 1_000, 1_010, 204, { jti: 't1', sid: 's1' }),
        refreshIn('t2', 's1', 990, 1_030),
        read('t2', 'u1', 'b', 1_200, 200),
      );
      expect(result.violations).toHaveLength(1);
    });

    it('covers only that session: another session of the same user stays valid', () => {
      const result = check(
        loginIn('t1', 's1', 0, 10),
        loginIn('t3', 's2', 20, 30),
        op('delete-session', 'a', 1_000, 1_010, 204, { jti: 't1', sid: 's1' }),
        read('t3', 'u1', 'b', 2_000, 200),
      );
      expect(result.violations).toEqual([]);
      expect(result.revokedTokens).toBe(0);
    });

    it('judges nothing by a refresh refused as invalid, or a DELETE answered 404', () => {
      const result = check(
        loginIn('t1', 's1', 0, 10),
        op('refresh', 'a', 1_000, 1_010, 401, {
          sid: 's1',
          detail: 'The refresh token is invalid',
        }),
        op('delete-session', 'b', 1_000, 1_010, 404, { jti: 't1', sid: 's1' }),
        read('t1', 'u1', 'c', 2_000, 200),
      );
      expect(result.violations).toEqual([]);
      expect(result.judgedRevokedReads).toBe(0);
    });

    it('lets a refresh without an answer explain a later rejection, and judges nothing by it', () => {
      const result = check(
        loginIn('t1', 's1', 0, 10),
        op('refresh', 'a', 1_000, 5_000, 0, { sid: 's1', detail: 'timeout' }),
        read('t1', 'u1', 'c', 6_000, 200),
        read('t1', 'u1', 'c', 7_000, 401),
      );
      expect(result.violations).toEqual([]);
      expect(result.validRejected.unexplained.count).toBe(0);
      expect(result.indeterminateRevocations).toBe(1);
    });
  });

  describe('faults and readiness', () => {
    // b is paused from 2,000 to 5,000; the logout returns on a at 2,510, due on b at 2,610.
    const pauseB = [
      fault(1, 'start', 2_000, ['b']),
      fault(1, 'healed', 5_000, ['b']),
      fault(1, 'recovered', 5_300, ['b']),
    ];
    const revokedDuring = [
      login('t1', 'u1', 0, 10),
      op('logout', 'a', 2_500, 2_510, 204, { jti: 't1', sub: 'u1' }),
    ];

    it('does not judge the faulted replica for what fell due under the fault until it is observed ready after the heal', () => {
      const result = check(
        ...revokedDuring,
        ...pauseB,
        ready('b', true, 4_990), // sent before the heal: does not end the fault
        read('t1', 'u1', 'b', 3_000, 200),
        read('t1', 'u1', 'b', 5_100, 200),
        ready('b', true, 5_200),
      );
      expect(result.violations).toEqual([]);
      expect(result.excusedRevokedReads.fault).toBe(2);
      expect(result.excusedAcceptances.byCause).toEqual({ 'pause-replica': 2 });
    });

    it('judges the faulted replica from its first ready answer after the heal on', () => {
      const after = read('t1', 'u1', 'b', 5_250, 200);
      const result = check(...revokedDuring, ...pauseB, ready('b', true, 5_200), after);
      expect(result.violations.map((violation) => violation.read)).toEqual([after]);
    });

    it('keeps judging the faulted replica for what was due before the fault: nothing held may be lost', () => {
      const before = [
        login('t2', 'u2', 0, 10),
        op('logout', 'a', 1_000, 1_010, 204, { jti: 't2', sub: 'u2' }),
      ];
      const during = read('t2', 'u2', 'b', 3_000, 200);
      const result = check(...before, ...pauseB, during, ready('b', true, 5_200));
      expect(result.violations.map((violation) => violation.read)).toEqual([during]);
    });

    it('excuses a replica that went from one trouble into the next without being ready between', () => {
      const result = check(
        login('t2', 'u2', 0, 10),
        op('logout', 'a', 1_000, 1_010, 204, { jti: 't2', sub: 'u2' }), // due on b at 1,110
        ready('b', true, 900),
        ready('b', false, 1_000), // not ready from 900 on: b may never have heard of it
        ...pauseB,
        read('t2', 'u2', 'b', 3_000, 200),
        ready('b', true, 5_200),
      );
      expect(result.violations).toEqual([]);
      expect(result.excusedAcceptances.byCause).toEqual({ 'pause-replica': 1 });
    });

    it('keeps judging the replicas the fault did not touch', () => {
      const result = check(
        ...revokedDuring,
        ...pauseB,
        ready('b', true, 5_200),
        read('t1', 'u1', 'c', 3_000, 200),
      );
      expect(result.violations).toHaveLength(1);
    });

    it('does not judge a replica observed not ready, from its last ready poll on, for what fell due then', () => {
      const result = check(
        login('t1', 'u1', 0, 10),
        op('logout', 'a', 1_520, 1_530, 204, { jti: 't1', sub: 'u1' }), // due on c at 1,630
        ready('c', true, 1_500),
        ready('c', false, 1_600),
        read('t1', 'u1', 'c', 1_650, 200),
        read('t1', 'u1', 'c', 1_700, 200),
        ready('c', true, 1_800),
        read('t1', 'u1', 'c', 1_900, 200),
      );
      expect(result.excusedRevokedReads.unready).toBe(2);
      expect(result.excusedAcceptances.byCause).toEqual({ 'not ready': 2 });
      expect(result.violations).toHaveLength(1);
      expect(result.violations[0]?.read.sentAt).toBe(1_900);
    });
  });

  describe('what is reported but is no violation', () => {
    it('counts rejections of tokens nobody revoked, by cause', () => {
      const wipe: FaultEntry[] = [
        {
          type: 'fault',
          id: 1,
          kind: 'redis-wipe',
          phase: 'start',
          at: 2_000,
          replicas: ['a', 'b', 'c'],
        },
        {
          type: 'fault',
          id: 1,
          kind: 'redis-wipe',
          phase: 'healed',
          at: 2_500,
          replicas: ['a', 'b', 'c'],
        },
        {
          type: 'fault',
          id: 1,
          kind: 'redis-wipe',
          phase: 'recovered',
          at: 3_000,
          replicas: ['a', 'b', 'c'],
          ok: true,
        },
      ];
      const result = check(
        login('t1', 'u1', 0, 10),
        login('t2', 'u2', 100, 110),
        login('t3', 'u3', 5_000, 5_010),
        read('t2', 'u2', 'a', 1_000, 401), // before any loss: unexplained
        ...wipe,
        read('t1', 'u1', 'b', 4_000, 401), // issued before the store lost its data
        read('t3', 'u3', 'c', 1_000_000, 401), // past exp (1,000 s)
      );
      expect(result.violations).toEqual([]);
      expect(result.validRejected.storeLoss).toBe(1);
      expect(result.validRejected.expired).toBe(1);
      expect(result.validRejected.unexplained.count).toBe(1);
      expect(result.validRejected.unexplained.examples[0]?.jti).toBe('t2');
    });

    it('counts 5xx other than 503 as errors, 503 as designed and status 0 as unanswered', () => {
      const result = check(
        login('t1', 'u1', 0, 10),
        read('t1', 'u1', 'a', 100, 500),
        read('t1', 'u1', 'a', 200, 503),
        read('t1', 'u1', 'a', 300, 0),
      );
      expect(result.errors.count).toBe(1);
      expect(result.designed503).toBe(1);
      expect(result.unanswered).toBe(1);
      expect(result.operations.read).toEqual({ '0': 1, '500': 1, '503': 1 });
    });
  });

  describe('liveness', () => {
    it('holds when every fault was healed and every replica was ready again', () => {
      const result = check(
        fault(1, 'start', 1, ['a']),
        fault(1, 'healed', 2, ['a']),
        fault(1, 'recovered', 3, ['a']),
      );
      expect(result.liveness).toEqual({ ok: true, problems: [] });
      expect(result.faults['pause-replica']).toEqual({ count: 1, heldMs: [1], recoveryMs: [1] });
    });

    it('fails for a fault never healed, a replica not ready again, or a run that did not finish', () => {
      const notReady: FaultEntry = {
        ...fault(2, 'recovered', 30, ['b']),
        ok: false,
        detail: 'b not ready',
      };
      const result = checkHistory([
        RUN,
        fault(1, 'start', 1, ['a']),
        fault(2, 'start', 10, ['b']),
        fault(2, 'healed', 20, ['b']),
        notReady,
      ]);
      expect(result.liveness.ok).toBe(false);
      expect(result.liveness.problems).toEqual([
        'fault #1 (pause-replica) was never healed',
        'after fault #2 (pause-replica) not every replica was ready again: b not ready',
        'the run did not finish (no liveness verdict)',
      ]);
    });
  });

  it('takes the fan-out bound from the history unless the caller gives one', () => {
    const history = [
      login('t1', 'u1', 0, 10),
      op('logout', 'a', 1_000, 1_010, 204, { jti: 't1' }),
      read('t1', 'u1', 'b', 1_060, 200),
    ];
    expect(checkHistory([{ ...RUN, fanOutBoundMs: 40 }, ...history, LIVE]).violations).toHaveLength(
      1,
    );
    expect(
      checkHistory([{ ...RUN, fanOutBoundMs: 40 }, ...history, LIVE], { fanOutBoundMs: 100 })
        .violations,
    ).toEqual([]);
  });
});
