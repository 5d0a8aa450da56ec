import { type Milliseconds } from './units';

/** One token (`jti`) revoked until the moment it would have expired anyway. */
export interface TokenRevocation {
  readonly kind: 'token';
  /** The token's `jti`. */
  readonly id: string;
  /** When the token expires; the revocation is pointless afterwards. */
  readonly expiresAtMs: Milliseconds;
  /** When the revocation was made, for the propagation metric. */
  readonly createdAtMs: Milliseconds;
}

/** Every token of a user (`sub`) issued at or before `cutoffMs` is revoked ("log out everywhere"). */
export interface UserRevocation {
  readonly kind: 'user';
  /** The user's `sub`. */
  readonly id: string;
  /** Tokens with `iat` (in ms) at or before this instant are revoked. */
  readonly cutoffMs: Milliseconds;
  /** After this instant no token issued before the cut-off can still be valid. */
  readonly expiresAtMs: Milliseconds;
  /** When the revocation was made. */
  readonly createdAtMs: Milliseconds;
}

/**
 * Every access token of one session (`sid`) is revoked, whenever it was issued: a session that
 * ended never issues another, so the revocation lasts as long as the last token it issued can.
 */
export interface SessionRevocation {
  readonly kind: 'session';
  /** The session's `sid`. */
  readonly id: string;
  /** After this instant no access token of the session can still be valid. */
  readonly expiresAtMs: Milliseconds;
  /** When the revocation was made. */
  readonly createdAtMs: Milliseconds;
}

/** A revocation of any kind. */
export type Revocation = TokenRevocation | UserRevocation | SessionRevocation;

/** The kinds of revocation. */
export type RevocationKind = Revocation['kind'];

/** Where an event sits in the store's ordered log. */
export interface LogPosition {
  /**
   * Identity of the store's data set; changes when the store lost its data (docs/design.md,
   * "Store loss").
   */
  readonly epoch: string;
  /** Gap-free sequence number of the last event, 0 before the first. */
  readonly seq: number;
  /** Stream id of the last event (`0-0` before the first). */
  readonly logId: string;
}

/**
 * The log's head as a replica reads it before hydrating or catching up, with the store-wide
 * not-before that came with the store's data set (docs/revocation-model.md, "Store loss").
 */
export interface StoreHead extends LogPosition {
  /**
   * Every token issued at or before this instant is revoked: set when the data set (its epoch) is
   * created, so that a store which lost its data never vouches for tokens issued before the loss,
   * and raised when a replica cannot write back everything a diverged store lost. 0 when unset.
   */
  readonly notBeforeMs: Milliseconds;
}

/** A revocation as recorded in the log and published to replicas. */
export type RevocationEvent = Revocation &
  LogPosition & {
    /**
     * Stream id of the log's last entry when this one was appended (`0-0` for the first): the
     * link that tells a replica the event continues the history it holds, not one that diverged
     * from it under the same sequence numbers (a failover). Absent in events of older builds.
     */
    readonly prevLogId?: string;
  };

/**
 * A log entry this build cannot read (garbage, or a kind or version from a newer build). It is
 * skipped and counted, never applied and never allowed to stop a catch-up
 * (docs/revocation-model.md, "Unreadable log entries").
 */
export interface UnreadableLogEntry {
  readonly kind: 'unreadable';
  /** Stream id of the entry. */
  readonly logId: string;
  /** Its sequence number when that much could be read; such an entry still fills its number. */
  readonly seq?: number;
  /**
   * The id of the entry it was appended after, when that much could be read: like a readable
   * entry's, it tells whether the entry continues the history the replica holds.
   */
  readonly prevLogId?: string;
  /** Why it could not be read. */
  readonly reason: string;
}

/** One entry read from the log. */
export type LogEntry = RevocationEvent | UnreadableLogEntry;
