import { OPERATION_KINDS } from './history-entry';
import { OperationPlanner, type PlannedOperation } from './operation-planner';
import { type KnownUser, Population } from './population';
import { SeededRandom } from './seeded-random';

/**
 * A population with registered users, valid and revoked tokens, and sessions (half of them
 * rotated once), the same every time.
 */
function population(): Population {
  const people = new Population('spec');
  for (let i = 0; i < 12; i++) {
    const user = people.newUser();
    user.registered = true;
    for (let t = 0; t < 3; t++) {
      const sid = `sid-${i}-${t}`;
      people.addToken({
        token: `tok-${i}-${t}`,
        jti: `j-${i}-${t}`,
        sub: `s-${i}`,
        exp: 1,
        user,
        issuedBy: t,
        sid,
      });
      const session = { sid, sub: `s-${i}`, user, refreshToken: `r-${i}-${t}`, rotatedOut: [] };
      people.addSession(session);
      if (t % 2 === 0) people.rotate(session, `r-${i}-${t}-2`);
    }
  }
  for (const token of people.valid.slice(0, 10)) people.revoke(token);
  return people;
}

/** A plan as plain data: its kind, replica, and which user or token it picked. */
function summary(plan: { operation: PlannedOperation; thinkMs: number }): string {
  const { operation } = plan;
  const target =
    'token' in operation
      ? operation.token.jti
      : 'session' in operation
        ? operation.session.sid
        : (operation.user as KnownUser).username;
  const probe =
    'probe' in operation ? ` probe ${operation.probe.replica}+${operation.probe.delayMs}` : '';
  return `${operation.kind} @${operation.replica} ${target}${probe} think ${plan.thinkMs}`;
}

function plans(seed: number, count = 200): string[] {
  const planner = new OperationPlanner(new SeededRandom(seed).fork('lane-0'), population(), 3, 20);
  return Array.from({ length: count }, () => summary(planner.next()));
}

describe('OperationPlanner', () => {
  it('makes the same choices for the same seed and population', () => {
    expect(plans(11)).toEqual(plans(11));
  });

  it('makes other choices for another seed', () => {
    expect(plans(11)).not.toEqual(plans(12));
  });

  it('draws every kind of operation, probes another replica, and reads revoked tokens too', () => {
    const people = population();
    const planner = new OperationPlanner(new SeededRandom(13), people, 3, 20);
    const seen = new Set<string>();
    let revokedReads = 0;
    for (let i = 0; i < 2_000; i++) {
      const { operation } = planner.next();
      seen.add(operation.kind);
      if ('probe' in operation) expect(operation.probe.replica).not.toBe(operation.replica);
      if (operation.kind === 'read' && people.revoked.includes(operation.token)) revokedReads += 1;
    }
    expect([...seen].sort()).toEqual([...OPERATION_KINDS].sort());
    expect(revokedReads).toBeGreaterThan(100);
  });

  it('reuses only a rotated-out refresh token, and refreshes a session when none was rotated', () => {
    const planner = new OperationPlanner(new SeededRandom(15), population(), 3, 20);
    for (let i = 0; i < 2_000; i++) {
      const { operation } = planner.next();
      if (operation.kind === 'refresh-reuse') {
        expect(operation.session.rotatedOut.length).toBeGreaterThan(0);
      }
    }
    const fresh = new Population('fresh');
    for (let i = 0; i < 12; i++) {
      const user = fresh.newUser();
      user.registered = true;
      fresh.addSession({ sid: `s${i}`, sub: `u${i}`, user, refreshToken: `r${i}`, rotatedOut: [] });
    }
    const never = new OperationPlanner(new SeededRandom(16), fresh, 3, 20);
    for (let i = 0; i < 500; i++) expect(never.next().operation.kind).not.toBe('refresh-reuse');
  });

  it('registers users first when there are too few to log in', () => {
    const planner = new OperationPlanner(new SeededRandom(14), new Population('empty'), 3, 20);
    expect(planner.next().operation.kind).toBe('register');
  });
});
