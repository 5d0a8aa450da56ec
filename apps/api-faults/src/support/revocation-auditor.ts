import { type ApiAnswer, type ApiClient, type RejectionTarget } from '@rescind/testing';

/** How a revocation was made. */
export type RevocationVia = 'logout' | 'logout-all' | 'crafted';

/** A revocation whose call returned, with the tokens it revoked. */
export interface AuditedRevocation {
  readonly via: RevocationVia;
  readonly tokens: readonly string[];
  /**
   * Index of the replica that answered the call: it must reject the tokens at once (read your
   * revocation). -1 when no replica made it (events written or published by the test itself).
   */
  readonly origin: number;
  /** When the call was sent (`performance.now()`). */
  readonly startedAtMs: number;
  /** When the call returned (`performance.now()`). */
  readonly returnedAtMs: number;
}

/** What a request was for. */
export type RequestPurpose = 'read' | 'probe' | 'revoke' | 'login';

/** One request the traffic made, with its answer. */
export interface AuditedRequest {
  readonly replica: number;
  readonly route: 'me' | 'register' | 'login' | 'logout' | 'logout-all';
  readonly purpose: RequestPurpose;
  /** The token presented, for `me`, `logout` and `logout-all`. */
  readonly token?: string;
  /** 0 when no answer came. */
  readonly status: number;
  readonly sentAtMs: number;
  readonly doneAtMs: number;
  readonly error?: string;
}

/** A revoked token accepted after its bound. */
export interface LateAcceptance {
  readonly replica: string;
  /** When the accepting request was sent (`performance.now()`), to relate it to the faults. */
  readonly sentAtMs: number;
  readonly via: RevocationVia;
  /** How long after the revocation returned the accepting request was sent (ms). */
  readonly sentAfterMs: number;
  /** How far past its bound (ms). */
  readonly lateByMs: number;
}

/** Options of {@link RevocationAuditor.verdict}. */
export interface VerdictOptions {
  /** Fan-out bound: other replicas reject within this long after the call returned. @default 100 */
  fanOutBoundMs?: number;
  /**
   * Until when (a `performance.now()` reading) this request may still be accepted although its
   * token was revoked; `standard` is the returning replica's `returnedAt` and every other
   * replica's `returnedAt + fanOutBoundMs`. Scenarios with a stated other bound override it.
   */
  acceptableUntil?: (
    request: AuditedRequest,
    revocation: AuditedRevocation,
    standard: number,
  ) => number;
  /** 503s the scenario designs (fail-closed, login or logout while Redis is unreachable). @default none */
  designed503?: (request: AuditedRequest) => boolean;
  /** Requests that may go unanswered (a killed or frozen replica). @default none */
  mayGoUnanswered?: (request: AuditedRequest) => boolean;
  /**
   * Rejections of tokens nobody revoked that the scenario designs (the store-wide not-before
   * after Redis lost its data revokes every token issued before the loss). @default none
   */
  designedRejection?: (request: AuditedRequest) => boolean;
}

/** The auditor's findings over everything recorded. */
export interface Verdict {
  readonly requests: number;
  /** Answers by status, `0` for none. */
  readonly statuses: Readonly<Record<string, number>>;
  readonly revocations: number;
  /** Requests that presented a token after its revocation had returned. */
  readonly revokedPresented: number;
  /** Of those, accepted within their bound (allowed, counted for the record). */
  readonly acceptedWithinBound: number;
  /**
   * The longest time after a revocation returned that a request was sent and still accepted
   * (within its bound or not), in ms; 0 when none was: the observed propagation delay, as a
   * lower bound that load on the test machine cannot inflate.
   */
  readonly latestAcceptanceMs: number;
  /** Accepted beyond their bound: must be empty. */
  readonly acceptedLate: readonly LateAcceptance[];
  /** 5xx answers the scenario did not design: must be empty. */
  readonly unexpected5xx: readonly AuditedRequest[];
  readonly designed503: number;
  /** Unanswered requests the scenario did not expect: must be empty. */
  readonly unexpectedNoAnswer: readonly AuditedRequest[];
  /** 401s for tokens nobody had started to revoke: must be empty. */
  readonly validRejected: readonly AuditedRequest[];
}

interface RevokedToken {
  /** The revocation that returned first. */
  first: AuditedRevocation;
  /** When the first call that revoked it started. */
  startedAtMs: number;
}

/**
 * Records every revocation with the time its call returned, and every request with its answer,
 * so that a scenario can be judged afterwards: no revoked token accepted later than its bound,
 * no 5xx but the designed ones, no valid token rejected.
 */
export class RevocationAuditor {
  private readonly requests: AuditedRequest[] = [];
  private readonly revocations: AuditedRevocation[] = [];
  private readonly revokedTokens = new Map<string, RevokedToken>();
  private readonly revokedList: string[] = [];
  private readonly uncertain = new Set<string>();

  constructor(readonly clients: readonly ApiClient[]) {}

  /** `GET /me` with `token` on replica `replica`, recorded. */
  async present(replica: number, token: string, purpose: RequestPurpose): Promise<ApiAnswer> {
    const answer = await (this.clients[replica] as ApiClient).me(token);
    this.record(replica, 'me', purpose, answer, token);
    return answer;
  }

  /** Replica `replica` as a rejection probe sees it: every token it presents is recorded. */
  target(replica: number): RejectionTarget {
    const label = (this.clients[replica] as ApiClient).label;
    return { label, me: (token) => this.present(replica, token, 'probe') };
  }

  /** Records a request made elsewhere. */
  record(
    replica: number,
    route: AuditedRequest['route'],
    purpose: RequestPurpose,
    answer: ApiAnswer,
    token?: string,
  ): void {
    this.requests.push({
      replica,
      route,
      purpose,
      token,
      status: answer.status,
      sentAtMs: answer.sentAtMs,
      doneAtMs: answer.doneAtMs,
      error: answer.error,
    });
  }

  /** Records a revocation whose call returned. */
  revoked(revocation: AuditedRevocation): void {
    this.revocations.push(revocation);
    for (const token of revocation.tokens) {
      const known = this.revokedTokens.get(token);
      if (known === undefined) {
        this.revokedTokens.set(token, { first: revocation, startedAtMs: revocation.startedAtMs });
        this.revokedList.push(token);
      } else {
        if (revocation.returnedAtMs < known.first.returnedAtMs) known.first = revocation;
        known.startedAtMs = Math.min(known.startedAtMs, revocation.startedAtMs);
      }
    }
  }

  /**
   * A revocation call for `token` got no clear answer (a 503 or none while Redis went away): it
   * may or may not have been recorded, so a later 401 for it is no false rejection.
   */
  mayBeRevoked(token: string): void {
    this.uncertain.add(token);
  }

  /** Revoked tokens in the order their revocations returned. */
  get revokedTokensInOrder(): readonly string[] {
    return this.revokedList;
  }

  /** Every revocation recorded so far. */
  get allRevocations(): readonly AuditedRevocation[] {
    return this.revocations;
  }

  /** Every request recorded so far. */
  get allRequests(): readonly AuditedRequest[] {
    return this.requests;
  }

  /** Judges everything recorded so far. */
  verdict(options: VerdictOptions = {}): Verdict {
    const fanOut = options.fanOutBoundMs ?? 100;
    const statuses: Record<string, number> = {};
    const acceptedLate: LateAcceptance[] = [];
    const unexpected5xx: AuditedRequest[] = [];
    const unexpectedNoAnswer: AuditedRequest[] = [];
    const validRejected: AuditedRequest[] = [];
    let revokedPresented = 0;
    let acceptedWithinBound = 0;
    let designed503 = 0;
    let latestAcceptanceMs = 0;

    for (const request of this.requests) {
      statuses[request.status] = (statuses[request.status] ?? 0) + 1;
      if (request.status === 0) {
        if (!options.mayGoUnanswered?.(request)) unexpectedNoAnswer.push(request);
        continue;
      }
      if (request.status >= 500) {
        if (request.status === 503 && options.designed503?.(request)) designed503++;
        else unexpected5xx.push(request);
      }
      if (request.route !== 'me' || request.token === undefined) continue;
      const revoked = this.revokedTokens.get(request.token);
      if (
        request.status === 401 &&
        !this.uncertain.has(request.token) &&
        (revoked === undefined || request.doneAtMs < revoked.startedAtMs) &&
        !(options.designedRejection?.(request) ?? false)
      ) {
        validRejected.push(request);
      }
      if (revoked === undefined || request.sentAtMs < revoked.first.returnedAtMs) continue;
      revokedPresented++;
      if (request.status !== 200) continue;
      const revocation = revoked.first;
      latestAcceptanceMs = Math.max(latestAcceptanceMs, request.sentAtMs - revocation.returnedAtMs);
      const standard =
        revocation.returnedAtMs + (request.replica === revocation.origin ? 0 : fanOut);
      const until = options.acceptableUntil?.(request, revocation, standard) ?? standard;
      if (request.sentAtMs <= until) {
        acceptedWithinBound++;
        continue;
      }
      acceptedLate.push({
        replica: (this.clients[request.replica] as ApiClient).label,
        sentAtMs: round(request.sentAtMs),
        via: revocation.via,
        sentAfterMs: round(request.sentAtMs - revocation.returnedAtMs),
        lateByMs: round(request.sentAtMs - until),
      });
    }
    return {
      requests: this.requests.length,
      statuses,
      revocations: this.revocations.length,
      revokedPresented,
      acceptedWithinBound,
      latestAcceptanceMs: round(latestAcceptanceMs),
      acceptedLate,
      unexpected5xx,
      designed503,
      unexpectedNoAnswer,
      validRejected,
    };
  }
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
