import { FAULT_KINDS, type FaultKind } from './fault-kind';
import {
  type FaultEntry,
  type HistoryEntry,
  OPERATION_KINDS,
  type OperationEntry,
  type OperationKind,
  type ReadinessEntry,
  type ReplicaLabel,
} from './history-entry';

/**
 * The fan-out bound when neither the caller nor the history states one (README, "Guarantees and
 * their limits": Fan-out).
 */
export const DEFAULT_FAN_OUT_BOUND_MS = 100;

/** Operations that revoke one token by its `jti`. */
const TOKEN_REVOCATIONS: ReadonlySet<OperationKind> = new Set([
  'logout',
  'admin-revoke-jti',
  'oauth-revoke',
]);
/** Operations that revoke every token of a user issued before the call. */
const USER_CUT_OFFS: ReadonlySet<OperationKind> = new Set(['logout-all', 'admin-revoke-sub']);
/** Operations that end a session when they succeed: every token of its `sid`, whenever issued. */
const SESSION_ENDINGS: ReadonlySet<OperationKind> = new Set(['logout', 'delete-session']);
/** Operations that present a refresh token: a reuse they reveal ends the session. */
const REFRESHES: ReadonlySet<OperationKind> = new Set(['refresh', 'refresh-reuse']);
/** Operations whose 200 issues an access token. */
const ISSUING: ReadonlySet<OperationKind> = new Set(['login', 'refresh']);
/**
 * The `error_description` of a refresh refused as reuse (the session was revoked by that call),
 * as opposed to an unusable token (README, "Sessions and refresh tokens").
 */
const REUSE_DETECTED = /already used/i;
/** The cause of a stretch in which a replica was observed not ready. */
const NOT_READY = 'not ready';
/** Examples kept of each kind of finding that is reported but is no violation. */
const EXAMPLES = 10;

/** A revoked token answered 200 by a ready replica later than its bound. */
export interface Violation {
  readonly read: OperationEntry;
  /** The revocation whose deadline the read missed (the earliest one). */
  readonly revocation: OperationEntry;
  /** 0 on the replica that answered the revocation (read your revocation), else the fan-out bound. */
  readonly boundMs: number;
  /** How long after the revocation returned plus the bound the read was sent. */
  readonly lateMs: number;
}

/** What the faults of one kind did. */
export interface FaultFigures {
  readonly count: number;
  /** From injection to heal, per fault. */
  readonly heldMs: readonly number[];
  /** From heal until every replica was observed ready again, per fault that recovered. */
  readonly recoveryMs: readonly number[];
}

/** Reports kept as a count and the first few examples. */
export interface Examples {
  readonly count: number;
  readonly examples: readonly OperationEntry[];
}

/** Everything the checker found in one history. */
export interface CheckResult {
  readonly seed: number | undefined;
  /** From the first to the last timestamp. */
  readonly durationMs: number;
  /** Per kind, the answers by status (`0` = no answer). */
  readonly operations: Readonly<Record<OperationKind, Readonly<Record<string, number>>>>;
  readonly faults: Readonly<Record<FaultKind, FaultFigures>>;
  /** The invariant: must be empty. */
  readonly violations: readonly Violation[];
  /** Reads of a revoked token sent past their deadline to a replica that was ready: each one judged. */
  readonly judgedRevokedReads: number;
  /**
   * The latest a read on a ready replica other than the revoking one was sent after the
   * revocation returned and still answered 200 (within the bound, or it is a violation), ms.
   */
  readonly latestFanOutAcceptanceMs: number | undefined;
  /** Reads past their deadline not judged: the replica was under a fault, or observed not ready. */
  readonly excusedRevokedReads: { readonly fault: number; readonly unready: number };
  /**
   * Of those, the ones answered 200, by what excused them (a fault kind, or `not ready`): no
   * violation of the README's guarantees by their letter, but worth reading.
   */
  readonly excusedAcceptances: {
    readonly byCause: Readonly<Record<string, number>>;
    readonly examples: readonly Violation[];
  };
  /** Tokens revoked for certain (by a revocation that returned 2xx). */
  readonly revokedTokens: number;
  /** Revocation calls without a 2xx or 4xx answer: they may or may not have taken effect. */
  readonly indeterminateRevocations: number;
  /** 401 for tokens nobody tried to revoke (fail-safe rejections, not violations). */
  readonly validRejected: {
    /** Issued before Redis lost its data (the designed store-wide not-before). */
    readonly storeLoss: number;
    /** Past their `exp`. */
    readonly expired: number;
    /** Anything else. */
    readonly unexplained: Examples;
  };
  /** 5xx other than the designed 503. */
  readonly errors: Examples;
  readonly designed503: number;
  /** Requests that got no answer (refused, reset, timed out): expected under faults. */
  readonly unanswered: number;
  /** Every fault healed, every replica ready again after each and at the end. */
  readonly liveness: { readonly ok: boolean; readonly problems: readonly string[] };
}

/** Options of {@link checkHistory}. */
export interface CheckOptions {
  /** Overrides the history's fan-out bound. */
  readonly fanOutBoundMs?: number;
}

interface Interval {
  readonly from: number;
  readonly to: number;
  /** The fault kind, or `not ready`. */
  readonly cause: string;
}

/**
 * Checks a history against the invariant: no request is answered 200 for a token that was
 * revoked — by its `jti`, by the end of its session (logout, `DELETE /auth/sessions/:sid`, a
 * refresh that revealed a reuse), or by a user cut-off (logout-all, admin `{sub}`) whose call was
 * sent after the token's login returned — when the request was sent later than the bound after the
 * revocation returned 2xx: at once on the replica that answered it, the fan-out bound on the
 * others. A revocation without a 2xx answer is indeterminate and judges nothing; a cut-off
 * overlapping the login judges nothing either. A replica under a fault (from its injection until
 * it is observed ready after the heal) or observed not ready is not judged for the revocations
 * that fell due meanwhile — "nothing lost" holds from its next ready answer on — but still is
 * for those due before the trouble began. A pure function of the history.
 */
export function checkHistory(
  entries: readonly HistoryEntry[],
  options: CheckOptions = {},
): CheckResult {
  const run = entries.find((entry) => entry.type === 'run');
  const bound = options.fanOutBoundMs ?? run?.fanOutBoundMs ?? DEFAULT_FAN_OUT_BOUND_MS;
  const operations = entries.filter((entry): entry is OperationEntry => entry.type === 'op');
  const faults = entries.filter((entry): entry is FaultEntry => entry.type === 'fault');
  const readiness = entries.filter((entry): entry is ReadinessEntry => entry.type === 'ready');

  // Each token's issue (a login or a refresh), its session's endings, its user's cut-offs.
  const logins = new Map<string, OperationEntry>();
  const byToken = new Map<string, OperationEntry[]>();
  const byUser = new Map<string, OperationEntry[]>();
  const bySession = new Map<string, OperationEntry[]>();
  let indeterminateRevocations = 0;
  for (const op of operations) {
    if (ISSUING.has(op.kind) && op.status === 200 && op.jti !== undefined) logins.set(op.jti, op);
    if (mayEndSession(op) && op.sid !== undefined) {
      push(bySession, op.sid, op);
      if (REFRESHES.has(op.kind) && !isCertain(op)) indeterminateRevocations += 1;
    }
    if (op.kind === 'delete-session' && !isClientError(op.status) && !isSuccess(op.status)) {
      indeterminateRevocations += 1;
    }
    const revokes = TOKEN_REVOCATIONS.has(op.kind) || USER_CUT_OFFS.has(op.kind);
    if (!revokes || isClientError(op.status)) continue;
    if (!isSuccess(op.status)) indeterminateRevocations += 1;
    if (TOKEN_REVOCATIONS.has(op.kind) && op.jti !== undefined) push(byToken, op.jti, op);
    if (USER_CUT_OFFS.has(op.kind) && op.sub !== undefined) push(byUser, op.sub, op);
  }

  const excuses = new Excuses(underFault(faults, readiness), observedUnready(readiness));
  const wipes = faults.filter((fault) => fault.kind === 'redis-wipe');
  const violations: Violation[] = [];
  const unexplained: OperationEntry[] = [];
  const errors: OperationEntry[] = [];
  const excusedByCause: Record<string, number> = {};
  const excusedExamples: Violation[] = [];
  const revokedTokens = new Set<string>();
  let latestFanOut: number | undefined;
  const count = {
    judged: 0,
    excusedByFault: 0,
    excusedUnready: 0,
    storeLoss: 0,
    expired: 0,
    unexplained: 0,
    errors: 0,
    designed503: 0,
    unanswered: 0,
  };

  for (const op of operations) {
    if (op.status === 0) count.unanswered += 1;
    else if (op.status === 503) count.designed503 += 1;
    else if (op.status >= 500) {
      count.errors += 1;
      if (errors.length < EXAMPLES) errors.push(op);
    }
    if (op.kind !== 'read' || op.jti === undefined) continue;
    const login = logins.get(op.jti);
    if (login === undefined) continue;
    // A cut-off that returned 2xx took effect before it returned; one without an answer may
    // take effect later still (a frozen replica handles it when it resumes), so it may cover
    // tokens issued after it failed.
    // A session's ending covers every token of its sid, whenever issued: a refresh after it
    // cannot rotate (the session is checked in the same script), one before it issued a token
    // the session revocation covers (docs/design.md, "Sessions").
    const endings = login.sid === undefined ? [] : (bySession.get(login.sid) ?? []);
    const attempts = [
      ...(byToken.get(op.jti) ?? []),
      ...endings,
      ...(byUser.get(login.sub ?? '') ?? []).filter(
        (cut) => !isSuccess(cut.status) || cut.doneAt >= login.sentAt,
      ),
    ];
    const certain = attempts.filter(
      (revocation) =>
        isCertain(revocation) &&
        (TOKEN_REVOCATIONS.has(revocation.kind) ||
          SESSION_ENDINGS.has(revocation.kind) ||
          REFRESHES.has(revocation.kind) ||
          login.doneAt < revocation.sentAt),
    );
    if (certain.length > 0) revokedTokens.add(op.jti);
    const deadline = earliestDeadline(certain, op.replica, bound);
    if (deadline !== undefined && op.status === 200 && deadline.boundMs > 0) {
      const after = op.sentAt - deadline.revocation.doneAt;
      const judgeable = excuses.of(op.replica, op.sentAt, deadline.at) === undefined;
      if (after > 0 && judgeable) latestFanOut = Math.max(latestFanOut ?? 0, after);
    }
    if (deadline !== undefined && op.sentAt > deadline.at) {
      const excuse = excuses.of(op.replica, op.sentAt, deadline.at);
      const late: Violation = {
        read: op,
        revocation: deadline.revocation,
        boundMs: deadline.boundMs,
        lateMs: op.sentAt - deadline.at,
      };
      if (excuse !== undefined) {
        if (excuse === NOT_READY) count.excusedUnready += 1;
        else count.excusedByFault += 1;
        if (op.status === 200) {
          excusedByCause[excuse] = (excusedByCause[excuse] ?? 0) + 1;
          if (excusedExamples.length < EXAMPLES) excusedExamples.push(late);
        }
      } else {
        count.judged += 1;
        if (op.status === 200) violations.push(late);
      }
    }
    if (op.status === 401 && !attempts.some((revocation) => revocation.sentAt < op.doneAt)) {
      if (login.exp !== undefined && op.doneAt >= login.exp * 1000) count.expired += 1;
      else if (wipes.some((wipe) => lostBefore(wipe, faults, login, op))) count.storeLoss += 1;
      else {
        count.unexplained += 1;
        if (unexplained.length < EXAMPLES) unexplained.push(op);
      }
    }
  }

  return {
    seed: run?.seed,
    durationMs: span(entries),
    operations: countOperations(operations),
    faults: faultFigures(faults),
    violations,
    judgedRevokedReads: count.judged,
    latestFanOutAcceptanceMs: latestFanOut,
    excusedRevokedReads: { fault: count.excusedByFault, unready: count.excusedUnready },
    excusedAcceptances: { byCause: excusedByCause, examples: excusedExamples },
    revokedTokens: revokedTokens.size,
    indeterminateRevocations,
    validRejected: {
      storeLoss: count.storeLoss,
      expired: count.expired,
      unexplained: { count: count.unexplained, examples: unexplained },
    },
    errors: { count: count.errors, examples: errors },
    designed503: count.designed503,
    unanswered: count.unanswered,
    liveness: liveness(entries, faults),
  };
}

function isSuccess(status: number): boolean {
  return status >= 200 && status < 300;
}

/** A refresh refused because its token was reused: that call revoked the session. */
function revealedReuse(op: OperationEntry): boolean {
  return REFRESHES.has(op.kind) && op.status === 401 && REUSE_DETECTED.test(op.detail ?? '');
}

/**
 * Whether `op` may have ended its session: a logout or `DELETE /auth/sessions/:sid` not refused
 * with a 4xx, or a refresh that revealed a reuse or got no clear answer (it may have presented a
 * token another lane had just rotated out).
 */
function mayEndSession(op: OperationEntry): boolean {
  if (SESSION_ENDINGS.has(op.kind)) return !isClientError(op.status);
  if (!REFRESHES.has(op.kind)) return false;
  return revealedReuse(op) || op.status === 0 || op.status >= 500;
}

/** Whether `op` certainly revoked what it targets, once it returned. */
function isCertain(op: OperationEntry): boolean {
  return isSuccess(op.status) || revealedReuse(op);
}

function isClientError(status: number): boolean {
  return status >= 400 && status < 500;
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}

function earliestDeadline(
  revocations: readonly OperationEntry[],
  replica: ReplicaLabel,
  bound: number,
): { at: number; revocation: OperationEntry; boundMs: number } | undefined {
  let best: { at: number; revocation: OperationEntry; boundMs: number } | undefined;
  for (const revocation of revocations) {
    const boundMs = revocation.replica === replica ? 0 : bound;
    const at = revocation.doneAt + boundMs;
    if (best === undefined || at < best.at) best = { at, revocation, boundMs };
  }
  return best;
}

/**
 * When a replica is not judged: while it is under a fault (or observed not ready), for the
 * revocations that fell due after that trouble began — those it may have missed until it is
 * ready again. What was due before, it already had to enforce, and must go on enforcing
 * throughout (it may answer 503 or nothing, never 200): nothing it held may be lost.
 */
class Excuses {
  private readonly spans = new Map<ReplicaLabel, Interval[]>();

  constructor(
    private readonly faults: Map<ReplicaLabel, Interval[]>,
    unready: Map<ReplicaLabel, Interval[]>,
  ) {
    for (const replica of new Set([...faults.keys(), ...unready.keys()])) {
      const all = [...(faults.get(replica) ?? []), ...(unready.get(replica) ?? [])];
      this.spans.set(replica, merged(all));
    }
  }

  /** The cause excusing a request sent `at` for a revocation due at `dueAt`, if any. */
  of(replica: ReplicaLabel, at: number, dueAt: number): string | undefined {
    const span = covering(this.spans.get(replica), at);
    if (span === undefined || span.from >= dueAt) return undefined;
    return covering(this.faults.get(replica), at)?.cause ?? NOT_READY;
  }
}

/** Overlapping stretches joined: a replica that went from one trouble into the next was never fine between. */
function merged(intervals: readonly Interval[]): Interval[] {
  const spans: Interval[] = [];
  for (const interval of [...intervals].sort((a, b) => a.from - b.from)) {
    const last = spans[spans.length - 1];
    if (last !== undefined && interval.from <= last.to) {
      spans[spans.length - 1] = { ...last, to: Math.max(last.to, interval.to) };
    } else spans.push(interval);
  }
  return spans;
}

function covering(intervals: readonly Interval[] | undefined, at: number): Interval | undefined {
  return (intervals ?? []).find((interval) => interval.from <= at && at <= interval.to);
}

/** Readiness answers of each replica that said ready, in the order they were sent. */
function readyAnswers(readiness: readonly ReadinessEntry[]): Map<ReplicaLabel, ReadinessEntry[]> {
  const byReplica = new Map<ReplicaLabel, ReadinessEntry[]>();
  for (const entry of readiness) if (entry.ready) push(byReplica, entry.replica, entry);
  for (const list of byReplica.values()) list.sort((a, b) => a.sentAt - b.sentAt);
  return byReplica;
}

/**
 * Per replica, from each fault's injection until the first ready answer to a poll sent after
 * the heal returned (for ever if there is none).
 */
function underFault(
  faults: readonly FaultEntry[],
  readiness: readonly ReadinessEntry[],
): Map<ReplicaLabel, Interval[]> {
  const ready = readyAnswers(readiness);
  const windows = new Map<ReplicaLabel, Interval[]>();
  for (const start of faults) {
    if (start.phase !== 'start') continue;
    const healed = faults.find((fault) => fault.id === start.id && fault.phase === 'healed');
    for (const replica of start.replicas) {
      const again =
        healed === undefined
          ? undefined
          : (ready.get(replica) ?? []).find((answer) => answer.sentAt >= healed.at);
      push(windows, replica, { from: start.at, to: again?.doneAt ?? Infinity, cause: start.kind });
    }
  }
  return windows;
}

/**
 * Per replica, each stretch in which it was observed not ready: from the last poll that found it
 * ready (sent) to the first that found it ready again (answered). A replica that is not ready is
 * exempt from the fan-out bound (README, "Guarantees and their limits": "other ready replicas").
 */
function observedUnready(readiness: readonly ReadinessEntry[]): Map<ReplicaLabel, Interval[]> {
  const byReplica = new Map<ReplicaLabel, ReadinessEntry[]>();
  for (const entry of readiness) push(byReplica, entry.replica, entry);
  const windows = new Map<ReplicaLabel, Interval[]>();
  for (const [replica, answers] of byReplica) {
    answers.sort((a, b) => a.sentAt - b.sentAt);
    let lastReady = -Infinity;
    let since: number | undefined;
    for (const answer of answers) {
      if (!answer.ready) since ??= lastReady;
      else {
        if (since !== undefined) {
          push(windows, replica, { from: since, to: answer.doneAt, cause: NOT_READY });
        }
        since = undefined;
        lastReady = answer.sentAt;
      }
    }
    if (since !== undefined)
      push(windows, replica, { from: since, to: Infinity, cause: NOT_READY });
  }
  return windows;
}

// A token issued before Redis lost its data, rejected after the loss: the store-wide not-before.
function lostBefore(
  wipe: FaultEntry,
  faults: readonly FaultEntry[],
  login: OperationEntry,
  read: OperationEntry,
): boolean {
  if (wipe.phase !== 'start' || read.doneAt < wipe.at) return false;
  // Until every replica has noticed the empty store, a login may still get a token that the
  // not-before raised on noticing covers.
  const recovered = faults.find((fault) => fault.id === wipe.id && fault.phase === 'recovered');
  return login.sentAt < (recovered?.at ?? Infinity);
}

function countOperations(
  operations: readonly OperationEntry[],
): Record<OperationKind, Record<string, number>> {
  const counts = Object.fromEntries(OPERATION_KINDS.map((kind) => [kind, {}])) as Record<
    OperationKind,
    Record<string, number>
  >;
  for (const op of operations) {
    const byStatus = counts[op.kind];
    byStatus[String(op.status)] = (byStatus[String(op.status)] ?? 0) + 1;
  }
  return counts;
}

function faultFigures(faults: readonly FaultEntry[]): Record<FaultKind, FaultFigures> {
  const figures = Object.fromEntries(
    FAULT_KINDS.map((kind) => [
      kind,
      { count: 0, heldMs: [] as number[], recoveryMs: [] as number[] },
    ]),
  ) as Record<FaultKind, { count: number; heldMs: number[]; recoveryMs: number[] }>;
  for (const start of faults) {
    if (start.phase !== 'start') continue;
    const kind = figures[start.kind];
    kind.count += 1;
    const healed = faults.find((fault) => fault.id === start.id && fault.phase === 'healed');
    const recovered = faults.find((fault) => fault.id === start.id && fault.phase === 'recovered');
    if (healed !== undefined) kind.heldMs.push(healed.at - start.at);
    if (healed !== undefined && recovered?.ok === true)
      kind.recoveryMs.push(recovered.at - healed.at);
  }
  return figures;
}

function liveness(
  entries: readonly HistoryEntry[],
  faults: readonly FaultEntry[],
): { ok: boolean; problems: string[] } {
  const problems: string[] = [];
  for (const start of faults) {
    if (start.phase !== 'start') continue;
    const phases = faults.filter((fault) => fault.id === start.id);
    const recovered = phases.find((fault) => fault.phase === 'recovered');
    if (!phases.some((fault) => fault.phase === 'healed')) {
      problems.push(`fault #${start.id} (${start.kind}) was never healed`);
    } else if (recovered === undefined || recovered.ok !== true) {
      problems.push(
        `after fault #${start.id} (${start.kind}) not every replica was ready again${recovered?.detail === undefined ? '' : `: ${recovered.detail}`}`,
      );
    }
  }
  const verdicts = entries.filter((entry) => entry.type === 'liveness');
  if (verdicts.length === 0) problems.push('the run did not finish (no liveness verdict)');
  for (const verdict of verdicts) if (!verdict.ok) problems.push(verdict.detail);
  return { ok: problems.length === 0, problems };
}

function span(entries: readonly HistoryEntry[]): number {
  let first = Infinity;
  let last = -Infinity;
  for (const entry of entries) {
    const times =
      entry.type === 'op' || entry.type === 'ready'
        ? [entry.sentAt, entry.doneAt]
        : entry.type === 'run'
          ? [entry.startedAt]
          : [entry.at];
    for (const time of times) {
      first = Math.min(first, time);
      last = Math.max(last, time);
    }
  }
  return last >= first ? last - first : 0;
}
