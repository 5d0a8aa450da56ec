import { type Milliseconds, type Seconds } from '@rescind/revocation-core';

/** One incarnation of one replica (a restart is a new process with a fresh cache). */
export interface ReplicaRef {
  readonly slot: number;
  readonly incarnation: number;
}

/** A token as the simulated login issued it. */
export interface SimToken {
  readonly index: number;
  readonly jti: string;
  readonly sub: string;
  /** The session it belongs to: one per login, shared by the tokens its refreshes issued. */
  readonly sid: string;
  /** RFC 7519 NumericDate, possibly fractional. */
  readonly iat: Seconds;
  readonly exp: Seconds;
  /** `iat` in whole milliseconds as the verifier computes it. */
  readonly iatMs: Milliseconds;
  /** When the login returned, in the global happened-before order. */
  readonly issuedOrder: number;
}

/** The kinds of revocation call: logout (`token`), end of a session, logout-all (`user`). */
export type SimRevocationKind = 'token' | 'session' | 'user';

/** A logout, end-of-session or logout-all call and what became of it. */
export interface SimRevocation {
  readonly id: number;
  readonly kind: SimRevocationKind;
  /** The `jti`, the `sid` or the `sub`. */
  readonly subject: string;
  /** The replica that served the call. */
  readonly replica: ReplicaRef;
  /** When the call was invoked, in the global happened-before order. */
  readonly invokedOrder: number;
  /** When the store executed its revoke script (undefined: never, or nothing to record). */
  loggedAt?: Milliseconds;
  /** When the call returned successfully (acknowledged). */
  ackedAt?: Milliseconds;
  ackedOrder?: number;
  /** When a failover last dropped it from the store. */
  lostAt?: Milliseconds;
  /**
   * Lost in a failover while no running replica remembered it: the documented limit ("survive a
   * failover only if they reached the replica", README "Scaling out"), not judged.
   */
  forgotten: boolean;
  /**
   * Lost in a failover while every live replica that held it had a log position at or below the
   * promoted replica's head, so none of them notices the divergence (known finding D).
   */
  unnoticedLoss?: boolean;
  /**
   * Logged under the very stream id (and number, and predecessor) of an entry a failover lost,
   * so that a replica that applied the lost one cannot tell them apart (known finding G).
   */
  reusedLogId?: boolean;
}

/** Where and when a token was presented, and what the replica reported about itself. */
export interface CheckContext {
  readonly replica: ReplicaRef;
  /** Global instant at which the check began. */
  readonly at: Milliseconds;
  readonly order: number;
  /** Whether the replica reported itself ready when the check began. */
  readonly ready: boolean;
  /** When this incarnation last resumed from a pause (or started). */
  readonly resumedAt: Milliseconds;
  /** When its current subscription was confirmed (`onSubscribed`); Infinity while it has none. */
  readonly subscribedAt: Milliseconds;
}

/** Which promise a violation breaks. */
export type ViolationKind =
  | 'read-your-revocation'
  | 'fan-out'
  | 'ready-again'
  | 'refused'
  | 'not-ready-after-quiet'
  | 'accepted-after-quiet';

/**
 * Violations of a known cause, reported and awaiting a fix outside this library (see README.md
 * of libs/revocation-sim): recorded apart, so that a run still fails on anything new.
 */
export type KnownFinding =
  /** D: a failover dropped a revocation that only replicas unaware of the divergence held. */
  | 'unnoticed-loss'
  /** G: the new master logged a revocation under the id of an entry it lost. */
  | 'reused-log-id';

/** A broken promise, with what the checker knew when it saw it. */
export interface Violation {
  readonly kind: ViolationKind;
  readonly at: Milliseconds;
  readonly message: string;
  /** Set when the violation has a known cause (recorded in `known`, not `violations`). */
  readonly finding?: KnownFinding;
}

/** The bounds the checker applies (see sim-config.ts for how they follow from the model). */
export interface CheckerBounds {
  /** A ready replica rejects a revocation this long after its acknowledgement. */
  readonly fanOutMs: Milliseconds;
  /** ... and this long after a failover dropped it from the store. */
  readonly failoverMs: Milliseconds;
}

/**
 * Judges every acceptance against the revocations acknowledged before the check began:
 *
 * - read your revocation: the replica incarnation that served the call rejects from its return;
 * - fan-out: a ready replica rejects once the fan-out bound has passed since the return (or
 *   since it resumed from a pause, or since a failover dropped the revocation from the store);
 * - ready again (nothing lost): a ready replica whose subscription began after the revocation
 *   was logged has caught up from the log, so it rejects at once;
 *
 * and, after the quiet period that follows the last fault, liveness: every running replica is
 * ready and rejects every acknowledged live revocation.
 */
export class Checker {
  readonly tokens: SimToken[] = [];
  readonly revocations: SimRevocation[] = [];
  /** Acknowledged revocations by `jti` (token), `sid` (session, after SOH) or `sub` (after NUL). */
  private readonly acknowledgedBySubject = new Map<string, SimRevocation[]>();
  readonly violations: Violation[] = [];
  /** Violations of a known cause (see {@link KnownFinding}). */
  readonly known: Violation[] = [];

  /**
   * @param judged known findings to report as violations all the same (to reproduce one)
   */
  constructor(
    readonly bounds: CheckerBounds,
    private readonly judged: readonly KnownFinding[] = [],
  ) {}

  /** Records a token whose login returned. */
  tokenIssued(token: SimToken): void {
    this.tokens.push(token);
  }

  /** Records a logout, end-of-session or logout-all call as it is invoked. */
  invoked(
    kind: SimRevocationKind,
    subject: string,
    replica: ReplicaRef,
    order: number,
  ): SimRevocation {
    const revocation: SimRevocation = {
      id: this.revocations.length,
      kind,
      subject,
      replica,
      invokedOrder: order,
      forgotten: false,
    };
    this.revocations.push(revocation);
    return revocation;
  }

  /** The call returned successfully. */
  acknowledged(revocation: SimRevocation, at: Milliseconds, order: number): void {
    revocation.ackedAt = at;
    revocation.ackedOrder = order;
    const key = subjectKey(revocation.kind, revocation.subject);
    const list = this.acknowledgedBySubject.get(key);
    if (list === undefined) this.acknowledgedBySubject.set(key, [revocation]);
    else list.push(revocation);
  }

  /** The store refused the call for a reason other than being unreachable. */
  refused(revocation: SimRevocation, at: Milliseconds, error: unknown): void {
    this.report('refused', at, `${describe(revocation)} failed: ${String(error)}`);
  }

  /**
   * Whether `revocation` revokes `token` by the invariant (docs/revocation-model.md, "The
   * invariant"), not by the implementation's rules.
   */
  covers(revocation: SimRevocation, token: SimToken): boolean {
    switch (revocation.kind) {
      case 'token':
        return revocation.subject === token.jti;
      case 'session':
        // Every token of the session, whenever issued: an ended session issues no more.
        return revocation.subject === token.sid;
      case 'user':
        return revocation.subject === token.sub && token.issuedOrder < revocation.invokedOrder;
    }
  }

  /** Acknowledged revocations that cover `token` and are judged. */
  coveringRevocations(token: SimToken): SimRevocation[] {
    const found: SimRevocation[] = [];
    for (const key of subjectKeys(token)) {
      for (const revocation of this.acknowledgedBySubject.get(key) ?? []) {
        if (!revocation.forgotten && this.covers(revocation, token)) found.push(revocation);
      }
    }
    return found;
  }

  /** Whether any acknowledged revocation names this token's `jti`, `sid` or `sub` (a cheap filter). */
  mayCover(token: SimToken): boolean {
    return subjectKeys(token).some((key) => this.acknowledgedBySubject.has(key));
  }

  /**
   * The rule an acceptance of `token` in `ctx` would break, with the revocation it ignores;
   * undefined when accepting is allowed.
   */
  ruleAt(
    ctx: CheckContext,
    token: SimToken,
  ): { kind: ViolationKind; revocation: SimRevocation } | undefined {
    for (const revocation of this.coveringRevocations(token)) {
      if ((revocation.ackedOrder as number) >= ctx.order) continue;
      const kind = this.ruleFor(ctx, revocation);
      if (kind !== undefined) return { kind, revocation };
    }
    return undefined;
  }

  /**
   * Judges a replica's acceptance of `token`.
   * @param finding the known cause the acceptance came from, if any
   */
  accepted(ctx: CheckContext, token: SimToken, finding?: KnownFinding): void {
    const broken = this.ruleAt(ctx, token);
    if (broken === undefined) return;
    const { kind, revocation } = broken;
    this.report(
      kind,
      ctx.at,
      `r${ctx.replica.slot}#${ctx.replica.incarnation} accepted ${token.jti} ` +
        `(sub ${token.sub}, sid ${token.sid}) ` +
        `${ctx.at - (revocation.ackedAt as number)} ms after ${describe(revocation)} returned` +
        (ctx.ready ? ' while ready' : ''),
      finding ?? findingOf([revocation]),
    );
  }

  /** A running replica was still not ready after the quiet period. */
  notReadyAfterQuiet(replica: ReplicaRef, at: Milliseconds, state: string): void {
    this.report(
      'not-ready-after-quiet',
      at,
      `r${replica.slot}#${replica.incarnation} not ready after the quiet period (${state})`,
    );
  }

  /** After the quiet period a replica accepted a token an acknowledged revocation covers. */
  acceptedAfterQuiet(
    replica: ReplicaRef,
    at: Milliseconds,
    token: SimToken,
    finding?: KnownFinding,
  ): void {
    const revocations = this.coveringRevocations(token);
    const revocation = revocations[0];
    this.report(
      'accepted-after-quiet',
      at,
      `r${replica.slot}#${replica.incarnation} accepted ${token.jti} after the quiet period` +
        (revocation === undefined ? '' : ` (${describe(revocation)})`),
      finding ?? findingOf(revocations),
    );
  }

  private ruleFor(ctx: CheckContext, revocation: SimRevocation): ViolationKind | undefined {
    const ackedAt = revocation.ackedAt as number;
    const lostAt = revocation.lostAt;
    const mine =
      revocation.replica.slot === ctx.replica.slot &&
      revocation.replica.incarnation === ctx.replica.incarnation;
    if (mine && (lostAt === undefined || ctx.at > lostAt + this.bounds.failoverMs)) {
      return 'read-your-revocation';
    }
    if (!ctx.ready) return undefined;
    if (
      lostAt === undefined &&
      revocation.loggedAt !== undefined &&
      revocation.loggedAt < ctx.subscribedAt &&
      ctx.subscribedAt !== Infinity
    ) {
      return 'ready-again';
    }
    const deadline = Math.max(
      ackedAt + this.bounds.fanOutMs,
      ctx.resumedAt + this.bounds.fanOutMs,
      lostAt === undefined ? -Infinity : lostAt + this.bounds.failoverMs,
    );
    return ctx.at > deadline ? 'fan-out' : undefined;
  }

  private report(
    kind: ViolationKind,
    at: Milliseconds,
    message: string,
    finding?: KnownFinding,
  ): void {
    if (finding === undefined) this.violations.push({ kind, at, message });
    else if (this.judged.includes(finding)) this.violations.push({ kind, at, message, finding });
    else this.known.push({ kind, at, message, finding });
  }
}

/** The known finding every one of these revocations fell to, if any. */
function findingOf(revocations: readonly SimRevocation[]): KnownFinding | undefined {
  if (revocations.length === 0) return undefined;
  if (revocations.every((r) => r.unnoticedLoss === true)) return 'unnoticed-loss';
  if (revocations.every((r) => r.reusedLogId === true)) return 'reused-log-id';
  return undefined;
}

function subjectKey(kind: SimRevocationKind, subject: string): string {
  return kind === 'token' ? subject : kind === 'session' ? `\u0001${subject}` : `\u0000${subject}`;
}

/** The keys under which revocations that may cover `token` are filed. */
function subjectKeys(token: SimToken): string[] {
  return [
    subjectKey('token', token.jti),
    subjectKey('session', token.sid),
    subjectKey('user', token.sub),
  ];
}

const CALLS: Readonly<Record<SimRevocationKind, string>> = {
  token: 'logout',
  session: 'end-session',
  user: 'logout-all',
};

function describe(revocation: SimRevocation): string {
  const call = CALLS[revocation.kind];
  return `${call} ${revocation.subject} (#${revocation.id} on r${revocation.replica.slot})`;
}
