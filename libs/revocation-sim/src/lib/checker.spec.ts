import { type CheckContext, Checker, type SimToken } from './checker';

const T0 = 1_780_000_000_000;
const BOUNDS = { fanOutMs: 300, failoverMs: 800 };
const A = { slot: 0, incarnation: 0 };
const B = { slot: 1, incarnation: 0 };

function tokenOf(index: number, sub: string, issuedOrder: number, sid = `s${index}`): SimToken {
  return {
    index,
    jti: `j${index}`,
    sub,
    sid,
    iat: (T0 + index) / 1000,
    exp: T0 / 1000 + 60,
    iatMs: T0 + index,
    issuedOrder,
  };
}

function ctx(replica: typeof A, at: number, order: number, more: Partial<CheckContext> = {}) {
  return {
    replica,
    at,
    order,
    ready: true,
    resumedAt: T0,
    subscribedAt: T0,
    ...more,
  };
}

/** A history: token j0 of alice issued (order 1), logged out on A (invoked 2, acked 3 at T0+10). */
function loggedOut() {
  const checker = new Checker(BOUNDS);
  const token = tokenOf(0, 'alice', 1);
  checker.tokenIssued(token);
  const revocation = checker.invoked('token', token.jti, A, 2);
  revocation.loggedAt = T0 + 5;
  checker.acknowledged(revocation, T0 + 10, 3);
  return { checker, token, revocation };
}

describe('Checker', () => {
  describe('when a ready replica accepts a token revoked more than the fan-out bound ago', () => {
    it('reports a fan-out violation', () => {
      const { checker, token } = loggedOut();
      checker.accepted(ctx(B, T0 + 10 + 301, 9), token);
      expect(checker.violations).toEqual([
        expect.objectContaining({ kind: 'fan-out', at: T0 + 311 }),
      ]);
    });

    it('allows it within the bound, and from a replica that is not ready', () => {
      const { checker, token } = loggedOut();
      checker.accepted(ctx(B, T0 + 10 + 300, 9), token);
      checker.accepted(ctx(B, T0 + 10_000, 10, { ready: false }), token);
      expect(checker.violations).toEqual([]);
    });

    it('counts the bound from the end of a pause', () => {
      const { checker, token } = loggedOut();
      checker.accepted(ctx(B, T0 + 900, 9, { resumedAt: T0 + 700 }), token);
      expect(checker.violations).toEqual([]);
      checker.accepted(ctx(B, T0 + 1001, 10, { resumedAt: T0 + 700 }), token);
      expect(checker.violations.map((v) => v.kind)).toEqual(['fan-out']);
    });
  });

  describe('when the replica that answered the logout accepts the token afterwards', () => {
    it('reports a read-your-revocation violation at once, ready or not', () => {
      const { checker, token } = loggedOut();
      checker.accepted(ctx(A, T0 + 10, 4, { ready: false }), token);
      expect(checker.violations.map((v) => v.kind)).toEqual(['read-your-revocation']);
    });

    it('does not count a check that began before the call returned', () => {
      const { checker, token } = loggedOut();
      checker.accepted(ctx(A, T0 + 10, 2), token);
      expect(checker.violations).toEqual([]);
    });

    it('does not hold a restarted process (a fresh cache) to it', () => {
      const { checker, token } = loggedOut();
      checker.accepted(ctx({ slot: 0, incarnation: 1 }, T0 + 20, 4, { ready: false }), token);
      expect(checker.violations).toEqual([]);
    });
  });

  describe('when a replica subscribed after the revocation was logged reports ready', () => {
    it('must reject it from its first ready moment (nothing lost)', () => {
      const { checker, token } = loggedOut();
      checker.accepted(ctx(B, T0 + 20, 4, { subscribedAt: T0 + 6 }), token);
      expect(checker.violations.map((v) => v.kind)).toEqual(['ready-again']);
    });
  });

  describe('when a user logs out everywhere', () => {
    it('covers the tokens issued before the call began, not those issued after', () => {
      const checker = new Checker(BOUNDS);
      const before = tokenOf(0, 'bob', 1);
      const after = tokenOf(1, 'bob', 3);
      checker.tokenIssued(before);
      checker.tokenIssued(after);
      const all = checker.invoked('user', 'bob', A, 2);
      checker.acknowledged(all, T0 + 10, 4);
      checker.accepted(ctx(A, T0 + 20, 5), after);
      expect(checker.violations).toEqual([]);
      checker.accepted(ctx(A, T0 + 20, 6), before);
      expect(checker.violations.map((v) => v.kind)).toEqual(['read-your-revocation']);
    });
  });

  describe('when a session ends', () => {
    it('covers every token of the session, whenever issued, and no other', () => {
      const checker = new Checker(BOUNDS);
      const first = tokenOf(0, 'bob', 1, 's0');
      const refreshed = tokenOf(1, 'bob', 3, 's0');
      const otherSession = tokenOf(2, 'bob', 4, 's2');
      for (const token of [first, refreshed, otherSession]) checker.tokenIssued(token);
      const ended = checker.invoked('session', 's0', A, 2);
      checker.acknowledged(ended, T0 + 10, 5);

      expect(checker.covers(ended, refreshed)).toBe(true);
      expect(checker.mayCover(otherSession)).toBe(false);
      checker.accepted(ctx(A, T0 + 20, 6), otherSession);
      expect(checker.violations).toEqual([]);
      checker.accepted(ctx(A, T0 + 20, 7), refreshed);
      expect(checker.violations.map((v) => v.kind)).toEqual(['read-your-revocation']);
      checker.accepted(ctx(B, T0 + 10 + 301, 8), first);
      expect(checker.violations.map((v) => v.kind)).toEqual(['read-your-revocation', 'fan-out']);
      expect(checker.violations[1]?.message).toMatch(/end-session s0/);
    });

    it('does not take a sid for a jti or a sub', () => {
      const checker = new Checker(BOUNDS);
      const token = tokenOf(0, 'bob', 1, 'x');
      const named = { ...tokenOf(1, 'x', 2, 's1'), jti: 'x' };
      checker.tokenIssued(token);
      checker.tokenIssued(named);
      const ended = checker.invoked('session', 'x', A, 3);
      checker.acknowledged(ended, T0 + 10, 4);
      expect(checker.coveringRevocations(named)).toEqual([]);
      expect(checker.coveringRevocations(token)).toEqual([ended]);
    });
  });

  describe('when a failover lost the revocation', () => {
    it('counts the bound from the failover, and sets aside what nobody remembers', () => {
      const { checker, token, revocation } = loggedOut();
      revocation.lostAt = T0 + 1000;
      checker.accepted(ctx(B, T0 + 1800, 9, { subscribedAt: T0 + 1500 }), token);
      expect(checker.violations).toEqual([]);
      checker.accepted(ctx(B, T0 + 1801, 10), token);
      expect(checker.violations.map((v) => v.kind)).toEqual(['fan-out']);
      revocation.forgotten = true;
      checker.accepted(ctx(B, T0 + 5000, 11), token);
      expect(checker.violations).toHaveLength(1);
    });

    it('files a loss no replica can notice under its known finding, not as a new violation', () => {
      const { checker, token, revocation } = loggedOut();
      revocation.lostAt = T0 + 1000;
      revocation.unnoticedLoss = true;
      checker.accepted(ctx(B, T0 + 5000, 9), token);
      expect(checker.violations).toEqual([]);
      expect(checker.known.map((v) => v.finding)).toEqual(['unnoticed-loss']);
    });
  });

  describe('after the quiet period', () => {
    it('reports a replica that is not ready and an acceptance of anything revoked', () => {
      const { checker, token } = loggedOut();
      checker.notReadyAfterQuiet(B, T0 + 9000, 'subscribed false');
      checker.acceptedAfterQuiet(B, T0 + 9000, token);
      expect(checker.violations.map((v) => v.kind)).toEqual([
        'not-ready-after-quiet',
        'accepted-after-quiet',
      ]);
    });
  });

  describe('when the store refused a revocation', () => {
    it('reports it', () => {
      const { checker, revocation } = loggedOut();
      checker.refused(
        revocation,
        T0 + 20,
        new Error('ERR value is not an integer or out of range'),
      );
      expect(checker.violations.map((v) => v.kind)).toEqual(['refused']);
    });
  });
});
