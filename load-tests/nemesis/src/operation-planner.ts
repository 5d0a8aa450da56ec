import { type OperationKind } from './history-entry';
import { type KnownSession, type KnownToken, type KnownUser, type Population } from './population';
import { type SeededRandom } from './seeded-random';

/**
 * How often each kind is drawn: more logins than revocations, so that valid tokens accumulate
 * (every revocation is followed by a probe read of the token it revoked).
 */
export const OPERATION_WEIGHTS: Readonly<Record<OperationKind, number>> = {
  read: 120,
  login: 40,
  register: 4,
  logout: 8,
  'logout-all': 3,
  'admin-revoke-jti': 6,
  'admin-revoke-sub': 2,
  'oauth-revoke': 6,
  refresh: 12,
  'refresh-reuse': 3,
  'delete-session': 4,
};

/** Reads that present a revoked token rather than a valid one. */
const REVOKED_READ_SHARE = 0.35;
/** Below this many registered users, logins turn into registrations. */
const MIN_USERS = 10;
/** Probes after a revocation are sent up to this long after it returned: both sides of the bound. */
const PROBE_DELAY_MAX_MS = 250;

/** A read of the revoked token on another replica, some time after the revocation returned. */
export interface Probe {
  readonly replica: number;
  readonly delayMs: number;
}

/** The revocations of a token (or of its user, or its session) a client lane makes. */
export type RevocationKind = Exclude<
  OperationKind,
  'register' | 'login' | 'read' | 'refresh' | 'refresh-reuse'
>;

/** The next operation of a lane, and the pause after it. */
export type PlannedOperation =
  | { readonly kind: 'register' | 'login'; readonly replica: number; readonly user: KnownUser }
  | { readonly kind: 'read'; readonly replica: number; readonly token: KnownToken }
  /** Rotates the session's current refresh token. */
  | { readonly kind: 'refresh'; readonly replica: number; readonly session: KnownSession }
  /**
   * Presents the session's latest rotated-out refresh token (reuse: the session ends), then
   * probes the session's latest access token on another replica.
   */
  | {
      readonly kind: 'refresh-reuse';
      readonly replica: number;
      readonly session: KnownSession;
      readonly probe: Probe;
    }
  | {
      readonly kind: RevocationKind;
      readonly replica: number;
      /**
       * The token revoked, or (logout-all, admin `{sub}`) whose user is cut off, or (logout,
       * delete-session) whose session ends.
       */
      readonly token: KnownToken;
      readonly probe: Probe;
    };

/**
 * Chooses a lane's operations. Every step draws the same six numbers from the lane's seeded
 * stream whatever happened before, so the choice sequence is a function of the seed; the shared
 * population only maps a choice onto a concrete user or token (a read of "the 40th revoked
 * token") and turns impossible choices into logins or registrations.
 */
export class OperationPlanner {
  constructor(
    private readonly random: SeededRandom,
    private readonly population: Population,
    private readonly replicaCount: number,
    private readonly maxThinkMs: number,
  ) {}

  /** The next operation and how long to pause after it. */
  next(): { operation: PlannedOperation; thinkMs: number } {
    const drawn = this.random.weighted(OPERATION_WEIGHTS);
    const replica = this.random.int(0, this.replicaCount - 1);
    const pick = this.random.next();
    const probe: Probe = {
      replica:
        (replica + this.random.int(1, Math.max(1, this.replicaCount - 1))) % this.replicaCount,
      delayMs: this.random.int(0, PROBE_DELAY_MAX_MS),
    };
    const thinkMs = this.random.int(0, this.maxThinkMs);
    return { operation: this.resolve(drawn, replica, pick, probe), thinkMs };
  }

  private resolve(
    drawn: OperationKind,
    replica: number,
    pick: number,
    probe: Probe,
  ): PlannedOperation {
    const { population } = this;
    const registered = population.registered();
    if (drawn === 'register' || registered.length < MIN_USERS) {
      const lost = population.lost();
      const user = lost.length > 0 ? at(lost, pick) : population.newUser();
      return { kind: 'register', replica, user };
    }
    if (drawn === 'login') return { kind: 'login', replica, user: at(registered, pick) };
    if (drawn === 'read') {
      const revoked = population.revoked;
      const valid = population.valid;
      if (revoked.length > 0 && (pick < REVOKED_READ_SHARE || valid.length === 0)) {
        return { kind: 'read', replica, token: at(revoked, pick / REVOKED_READ_SHARE) };
      }
      if (valid.length > 0) {
        const rescaled = (pick - REVOKED_READ_SHARE) / (1 - REVOKED_READ_SHARE);
        return { kind: 'read', replica, token: at(valid, rescaled) };
      }
      return { kind: 'login', replica, user: at(registered, pick) };
    }
    if (drawn === 'refresh' || drawn === 'refresh-reuse') {
      const sessions = population.sessions;
      const reusable = sessions.filter((session) => session.rotatedOut.length > 0);
      if (drawn === 'refresh-reuse' && reusable.length > 0) {
        return { kind: drawn, replica, session: at(reusable, pick), probe };
      }
      if (sessions.length > 0) return { kind: 'refresh', replica, session: at(sessions, pick) };
      return { kind: 'login', replica, user: at(registered, pick) };
    }
    if (population.valid.length === 0)
      return { kind: 'login', replica, user: at(registered, pick) };
    return { kind: drawn, replica, token: at(population.valid, pick), probe };
  }
}

/** The item at fraction `u` (clamped to [0, 1)) of a non-empty list. */
function at<T>(items: readonly T[], u: number): T {
  const index = Math.min(items.length - 1, Math.max(0, Math.floor(u * items.length)));
  return items[index] as T;
}
