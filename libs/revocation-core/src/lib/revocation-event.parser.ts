import { MalformedEventError } from './errors/malformed-event.error';
import { type LogEntry, type Revocation, type RevocationEvent } from './revocation';
import { isRevocationId } from './revocation-id';

/**
 * Oldest event version this build reads; later versions only add fields, which it ignores
 * (the store's codec owns how versions are laid out on the wire).
 */
export const EVENT_VERSION = 1;

const LOG_ID = /^\d{1,20}-\d{1,20}$/;
const EPOCH = /^[A-Za-z0-9-]{1,64}$/;

function isTimestamp(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/**
 * Validates the revocation part of an event or log entry.
 * @throws MalformedEventError naming the first field that is wrong
 */
export function parseRevocation(input: unknown): Revocation {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new MalformedEventError('not an object');
  }
  const raw = input as Record<string, unknown>;
  const id = raw['id'];
  const expiresAtMs = raw['expiresAtMs'];
  const createdAtMs = raw['createdAtMs'];
  if (!isRevocationId(id)) throw new MalformedEventError('bad id');
  if (!isTimestamp(expiresAtMs)) throw new MalformedEventError('bad expiresAtMs');
  if (!isTimestamp(createdAtMs)) throw new MalformedEventError('bad createdAtMs');
  // Object literals of one shape per kind, no spreads: every pub/sub message of every replica
  // passes here, and spreading costs several times the checks (load-tests/scale/README.md,
  // "Where a replica's CPU goes").
  switch (raw['kind']) {
    case 'token':
      return { kind: 'token', id, expiresAtMs, createdAtMs };
    case 'session':
      return { kind: 'session', id, expiresAtMs, createdAtMs };
    case 'user': {
      const cutoffMs = raw['cutoffMs'];
      if (!isTimestamp(cutoffMs)) throw new MalformedEventError('bad cutoffMs');
      return { kind: 'user', id, expiresAtMs, createdAtMs, cutoffMs };
    }
    default:
      throw new MalformedEventError('unknown kind');
  }
}

/** An event's properties, writable while it is assembled. */
type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * Validates a published or logged revocation event, as the store decoded it. There is no event that
 * removes a revocation, so a forged message can at worst revoke, never un-revoke.
 * @throws MalformedEventError
 */
export function parseRevocationEvent(input: unknown): RevocationEvent {
  return parseEvent(input, undefined);
}

/** {@link parseRevocationEvent}, with the log id given apart (a log entry's is its stream id). */
function parseEvent(input: unknown, entryLogId: string | undefined): RevocationEvent {
  const revocation = parseRevocation(input);
  const raw = input as Record<string, unknown>;
  // Later versions only add fields, which this reader ignores (docs/revocation-model.md).
  const version = raw['v'];
  if (!Number.isSafeInteger(version) || (version as number) < EVENT_VERSION) {
    throw new MalformedEventError('unsupported version');
  }
  const epoch = raw['epoch'];
  const seq = raw['seq'];
  const logId = entryLogId ?? raw['logId'];
  if (typeof epoch !== 'string' || !EPOCH.test(epoch)) throw new MalformedEventError('bad epoch');
  if (!isTimestamp(seq) || seq < 1) throw new MalformedEventError('bad seq');
  if (typeof logId !== 'string' || !LOG_ID.test(logId)) {
    throw new MalformedEventError('bad logId');
  }
  const prevLogId = raw['prevLogId'];
  if (prevLogId !== undefined && (typeof prevLogId !== 'string' || !LOG_ID.test(prevLogId))) {
    throw new MalformedEventError('bad prevLogId');
  }
  // parseRevocation made the object for us alone: the position is added to it, not copied.
  const event = revocation as Mutable<RevocationEvent>;
  event.epoch = epoch;
  event.seq = seq;
  event.logId = logId;
  if (prevLogId !== undefined) event.prevLogId = prevLogId;
  return event;
}

/**
 * Reads one log entry of the first wire format (the event as JSON in one field) without ever
 * throwing; see {@link readLogEntry}.
 */
export function parseLogEntry(body: string | undefined, logId: string): LogEntry {
  let raw: unknown;
  try {
    raw = JSON.parse(body ?? '');
  } catch {
    return { kind: 'unreadable', logId, reason: 'not JSON' };
  }
  return readLogEntry(raw, logId);
}

/**
 * Validates one decoded log entry without ever throwing: an entry this build cannot read comes
 * back as `unreadable`, with its sequence number when that much is readable, so that a catch-up
 * can step over it instead of stopping on it (docs/revocation-model.md, "Unreadable log
 * entries"). Decoding the wire format is the store's business; this judges what it decoded.
 */
export function readLogEntry(raw: unknown, logId: string): LogEntry {
  try {
    // The stream id is the entry's log id whatever its fields say; passed apart rather than
    // spread into a copy (every catch-up entry passes here: "Where a replica's CPU goes" in
    // load-tests/scale/README.md).
    return parseEvent(raw, logId);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const { seq, prevLogId } = (raw ?? {}) as { seq?: unknown; prevLogId?: unknown };
    if (!isTimestamp(seq) || seq < 1) return { kind: 'unreadable', logId, reason };
    return typeof prevLogId === 'string' && LOG_ID.test(prevLogId)
      ? { kind: 'unreadable', logId, seq, prevLogId, reason }
      : { kind: 'unreadable', logId, seq, reason };
  }
}
