import { type FaultKind } from './fault-kind';

/** A replica as named in a history: `a`, `b`, `c`, … */
export type ReplicaLabel = string;

/** Every client operation the generator sends. */
export const OPERATION_KINDS = [
  'register',
  'login',
  'read',
  'logout',
  'logout-all',
  'admin-revoke-jti',
  'admin-revoke-sub',
  'oauth-revoke',
  'refresh',
  'refresh-reuse',
  'delete-session',
] as const;

/** One kind of client operation. */
export type OperationKind = (typeof OPERATION_KINDS)[number];

/** The first line of a history: how the run was set up. */
export interface RunEntry {
  readonly type: 'run';
  readonly seed: number;
  readonly startedAt: number;
  /** Each replica with its `REVOCATION_CACHE_MAX`. */
  readonly replicas: readonly { readonly label: ReplicaLabel; readonly cacheMax: number }[];
  readonly lanes: number;
  readonly faultKinds: readonly FaultKind[];
  /** The fan-out bound of the run, ms. */
  readonly fanOutBoundMs: number;
}

/**
 * One client request: when it was sent and when its answer was read (history clock, ms), and
 * the answer's status (0: no answer, e.g. refused, reset or timed out).
 */
export interface OperationEntry {
  readonly type: 'op';
  readonly id: number;
  readonly lane: number;
  readonly kind: OperationKind;
  readonly replica: ReplicaLabel;
  readonly sentAt: number;
  readonly doneAt: number;
  readonly status: number;
  /** The username (register, login). */
  readonly user?: string;
  /** The user the token or revocation is about. */
  readonly sub?: string;
  /** The token presented or revoked (its `jti`); on a login or refresh, the one issued. */
  readonly jti?: string;
  /**
   * The session: of the token presented or issued, of the refresh token presented, or the one
   * a `DELETE /auth/sessions/:sid` ended.
   */
  readonly sid?: string;
  /** The issued token's `exp` (login), seconds since the epoch. */
  readonly exp?: number;
  /** A read sent right after a revocation of the same token, to another replica. */
  readonly probe?: boolean;
  /** Why there was no answer, or the answer's error description. */
  readonly detail?: string;
}

/** A fault's start, its heal, and the moment every replica was ready again. */
export interface FaultEntry {
  readonly type: 'fault';
  readonly id: number;
  readonly kind: FaultKind;
  readonly phase: 'start' | 'healed' | 'recovered';
  readonly at: number;
  /** Replicas whose answers the fault may affect: judged only once they are ready again. */
  readonly replicas: readonly ReplicaLabel[];
  readonly detail?: string;
  /** On `recovered`: false when some replica was not ready again in time. */
  readonly ok?: boolean;
}

/** One answer of `GET /health/ready` (a change of state, or one the nemesis waited for). */
export interface ReadinessEntry {
  readonly type: 'ready';
  readonly replica: ReplicaLabel;
  readonly ready: boolean;
  readonly sentAt: number;
  readonly doneAt: number;
}

/** The closing liveness verdict: every fault healed and every replica ready again. */
export interface LivenessEntry {
  readonly type: 'liveness';
  readonly at: number;
  readonly ok: boolean;
  readonly detail: string;
}

/** One line of a history file. */
export type HistoryEntry = RunEntry | OperationEntry | FaultEntry | ReadinessEntry | LivenessEntry;
