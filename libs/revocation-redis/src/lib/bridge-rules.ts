import { type Revocation } from '@rescind/revocation-core';
import { EventCodec } from './event-codec';
import { type RevocationAudit } from './revocation-store';

/**
 * The decisions of the bridge between regions (docs/design.md, "Several regions"), without its
 * I/O: `RegionBridge` reads Redis and calls these; the deterministic simulator's bridge model
 * reads its model stores over simulated links and calls the same ones (libs/revocation-sim
 * README, "Regions, links and partitions"), so that it exercises the real rules.
 */

/** How far a bridge has applied a peer region's log. */
export interface BridgePosition {
  /** The peer's data set. */
  readonly epoch: string;
  /** The sequence number of the last entry applied (or stepped over). */
  readonly seq: number;
  /** Its stream id. */
  readonly logId: string;
}

/** Why a bridge re-reads a peer's whole live set rather than its log. */
export type RereadCause = 'no position' | 'new epoch' | 'trimmed log';

/** A log entry as `XREAD` returns it: its stream id and its field/value pairs. */
export type RawLogEntry = readonly [logId: string, fields: readonly string[]];

/** A revocation for the bridge to write to this region's store, through `RevocationStore.revoke`. */
export interface BridgeWrite {
  /** The revocation alone (no audit, no position), as the write path takes it. */
  readonly revocation: Revocation;
  readonly audit: RevocationAudit;
}

/** What a round does first, from what this store holds: re-read, or follow from the position. */
export type BridgeStart =
  | { readonly kind: 'reread'; readonly cause: 'no position' }
  | { readonly kind: 'follow'; readonly localEpoch: string; readonly position: BridgePosition };

/** What the peer answered to one read after the position (a pipeline: `GET`, `GET`, `XREAD`). */
export interface BridgeRead {
  /** The position the read was made after. */
  readonly position: BridgePosition;
  /** The peer's data set; `null` when it has none. */
  readonly peerEpoch: string | null;
  /** The peer's last sequence number. */
  readonly peerHeadSeq: number;
  /** Entries after the position, oldest first (at most `batchSize`). */
  readonly entries: readonly RawLogEntry[];
  readonly batchSize: number;
  /** The peer region's name (its `REGION`). */
  readonly peerName: string;
}

/** What a round does with what it read. */
export type BridgePlan =
  /** The peer has no data set (it lost its data, no replica of it started since): read again. */
  | { readonly kind: 'wait-for-peer' }
  | { readonly kind: 'reread'; readonly cause: RereadCause }
  /** Nothing after the position, which is the peer's head. */
  | { readonly kind: 'caught-up' }
  /**
   * Write `toApply` (the entries whose origin is the peer), then save `next`: the last entry
   * read, those of other origins and the unreadable ones stepped over. `caughtUp` when the read
   * was not a full batch (nothing more was there).
   */
  | {
      readonly kind: 'apply';
      readonly toApply: readonly BridgeWrite[];
      readonly next: BridgePosition;
      readonly caughtUp: boolean;
    };

/**
 * A saved position (the hash the save-position script writes, as `HGETALL` returns it), if it
 * was saved against this store's current data set (`localEpoch`).
 */
export function positionOf(
  hash: Readonly<Record<string, string>>,
  localEpoch: string | null,
): BridgePosition | undefined {
  const { localEpoch: savedIn, epoch, seq, logId } = hash;
  if (savedIn === undefined || savedIn !== localEpoch) return undefined;
  if (epoch === undefined || logId === undefined || !/^\d+$/.test(seq ?? '')) return undefined;
  return { epoch, seq: Number(seq), logId };
}

/**
 * The start of a round: without a position saved against this store's data set (first start, or
 * this store lost its data), re-read the peer's live set; otherwise read its log after it.
 */
export function planBridgeStart(
  hash: Readonly<Record<string, string>>,
  localEpoch: string | null,
): BridgeStart {
  const position = positionOf(hash, localEpoch);
  if (position === undefined || localEpoch === null)
    return { kind: 'reread', cause: 'no position' };
  return { kind: 'follow', localEpoch, position };
}

/**
 * What a round does with one read of the peer: re-read its live set when it has a data set the
 * position was not applied from (it lost its data), or when its log was trimmed past the position
 * (an empty read with the head ahead, or a number that does not follow the last one); otherwise
 * apply what originated there. Entries made elsewhere are stepped over (that region's own bridge
 * brings them here, from their origin), and so are unreadable ones, as replicas do (docs/design.md,
 * "Poison entries"). What is applied keeps the reason and actor its entry was logged with.
 */
export function planBridgeRound(read: BridgeRead): BridgePlan {
  const { position, peerEpoch, peerHeadSeq, entries, batchSize, peerName } = read;
  if (peerEpoch === null) return { kind: 'wait-for-peer' };
  if (peerEpoch !== position.epoch) return { kind: 'reread', cause: 'new epoch' };
  if (entries.length === 0) {
    if (peerHeadSeq > position.seq) return { kind: 'reread', cause: 'trimmed log' };
    return { kind: 'caught-up' };
  }
  let next = position;
  const toApply: BridgeWrite[] = [];
  for (const [logId, fields] of entries) {
    const entry = EventCodec.logEntry(logId, fields);
    const seq = entry.seq;
    if (seq !== undefined && seq !== next.seq + 1) return { kind: 'reread', cause: 'trimmed log' };
    next = { epoch: position.epoch, seq: seq ?? next.seq, logId };
    if (entry.kind === 'unreadable') continue;
    const origin = EventCodec.originOf(fields) ?? peerName;
    if (origin !== peerName) continue;
    // Recorded with the reason and actor it was made with, logged with it since it has an
    // origin; an entry without them (an older build's) is marked as the bridge's own.
    const { reason = 'replicated', actor = 'bridge' } = EventCodec.auditOf(fields);
    toApply.push({ revocation: bareRevocation(entry), audit: { reason, actor, origin } });
  }
  return { kind: 'apply', toApply, next, caughtUp: entries.length < batchSize };
}

/**
 * What a re-read writes of one revocation the peer holds: every one, whatever its origin (the
 * union is what both must hold, and the write path refuses what is covered here already, so
 * nothing loops), with its own audit, the peer standing in for an origin it lacks.
 */
export function rereadWrite(held: Revocation & RevocationAudit, peerName: string): BridgeWrite {
  return {
    revocation: bareRevocation(held),
    audit: {
      reason: held.reason ?? 'replicated',
      actor: held.actor ?? 'bridge',
      origin: held.origin ?? peerName,
    },
  };
}

/**
 * Whether a re-read may start: only from a peer that holds a data set (an epoch under the shared
 * `KEY_PREFIX`). A peer without one (its Redis came back empty and nothing of that region has
 * started since, or it uses another `KEY_PREFIX`) is waited for and never given one by the
 * bridge: reading its head would create a data set there, and a region on another prefix would
 * then look like an empty region followed live (docs/design.md, "Several regions").
 */
export function planReread(peerEpoch: string | null): 'wait-for-peer' | 'reread' {
  return peerEpoch === null ? 'wait-for-peer' : 'reread';
}

/**
 * The position a re-read saves: the peer's head read before its live set, so that whatever the
 * peer logs meanwhile is after it and is applied from the log.
 */
export function rereadPosition(head: {
  readonly epoch: string;
  readonly seq: number;
  readonly logId: string;
}): BridgePosition {
  return { epoch: head.epoch, seq: head.seq, logId: head.logId };
}

/** The revocation alone, without a log entry's position or a record's audit. */
export function bareRevocation(revocation: Revocation): Revocation {
  const { kind, id, expiresAtMs, createdAtMs } = revocation;
  return revocation.kind === 'user'
    ? { kind: 'user', id, expiresAtMs, createdAtMs, cutoffMs: revocation.cutoffMs }
    : { kind: kind as 'token' | 'session', id, expiresAtMs, createdAtMs };
}
