import {
  type LogEntry,
  parseLogEntry,
  parseRevocation,
  readLogEntry,
  type Revocation,
  type RevocationEvent,
} from '@rescind/revocation-core';

/**
 * The name of every field of a revocation event on the wire (log entries and pub/sub messages)
 * and of the properties of a revocation record: the one place they are spelled. The Lua scripts
 * receive them as arguments, so that a rename reaches them too (docs/design.md, "Event wire
 * format").
 */
export const EVENT_FIELDS = {
  version: 'v',
  kind: 'kind',
  id: 'id',
  expiresAtMs: 'expiresAtMs',
  createdAtMs: 'createdAtMs',
  cutoffMs: 'cutoffMs',
  epoch: 'epoch',
  seq: 'seq',
  prevLogId: 'prevLogId',
  logId: 'logId',
  origin: 'origin',
  reason: 'reason',
  actor: 'actor',
} as const;

/**
 * The audit trail's fields: logged (not published) with a revocation that has an origin, for the
 * bridges between regions to record it with (docs/design.md, "Several regions"). Replicas never
 * read them, so decoding an entry for them leaves these out.
 */
const AUDIT_NAMES: ReadonlySet<string> = new Set([EVENT_FIELDS.reason, EVENT_FIELDS.actor]);

/** The fields a replica decodes from a log entry: every field but the audit trail's. */
const DECODED_NAMES: readonly string[] = Object.values(EVENT_FIELDS).filter(
  (name) => !AUDIT_NAMES.has(name),
);

/**
 * Version of the wire format this build writes: one stream field per property, every value a
 * string. Version 1 kept the whole event as JSON in one field ({@link V1_BODY_FIELD}); it is
 * still read, so that a rolling upgrade loses nothing.
 */
export const WIRE_VERSION = 2;

/** The one field of a version-1 log entry: the event as JSON, its properties named as above. */
export const V1_BODY_FIELD = 'e';

/** Fields whose values are numbers once decoded. */
const NUMERIC_NAMES: ReadonlySet<string> = new Set([
  EVENT_FIELDS.version,
  EVENT_FIELDS.expiresAtMs,
  EVENT_FIELDS.createdAtMs,
  EVENT_FIELDS.cutoffMs,
  EVENT_FIELDS.seq,
]);

/** A decimal integer as the encoder writes one; anything else is left for validation to refuse. */
const DECIMAL = /^(0|[1-9]\d{0,15})$/;

/** Arguments the revoke script takes after its fixed ones (see `commands/revoke-6.lua`). */
export interface RevokeFieldArguments {
  /** Name of the cut-off in the record JSON. */
  readonly recordCutoff: string;
  /** Names of the fields the script fills in: epoch, seq, prevLogId, logId. */
  readonly position: readonly [string, string, string, string];
  /** The revocation's own fields, name/value pairs, version first: logged and published. */
  readonly fields: readonly string[];
  /**
   * Name/value pairs logged after the position but not published: the audit trail (`reason`,
   * `actor`) of a revocation that has an origin, for the bridges between regions; empty
   * otherwise (docs/design.md, "Event wire format").
   */
  readonly logOnly: readonly string[];
}

/** Who made a revocation and why, as {@link EventCodec.revokeArguments} logs it. */
export interface LoggedAudit {
  readonly reason?: string;
  readonly actor?: string;
}

/**
 * Converts revocation events between their objects and what Redis holds: log entries, pub/sub
 * messages and records. It only translates; validation stays with the core
 * (`parseRevocationEvent`, `readLogEntry`), so that everything read is judged the same way.
 */
export class EventCodec {
  private constructor() {}

  /**
   * The revoke script's field arguments for `revocation` (whole milliseconds already).
   * @param origin the region the revocation was made in, logged with it when given, so that a
   *   peer region's bridge does not apply it back (docs/design.md, "Several regions")
   * @param audit its reason and actor, logged (not published) with it when it has an origin, so
   *   that a peer region's bridge records them too; without an origin (no regions) the entry is
   *   as it always was
   */
  static revokeArguments(
    revocation: Revocation,
    origin?: string,
    audit: LoggedAudit = {},
  ): RevokeFieldArguments {
    const fields: string[] = [
      EVENT_FIELDS.version,
      String(WIRE_VERSION),
      EVENT_FIELDS.kind,
      revocation.kind,
      EVENT_FIELDS.id,
      revocation.id,
      EVENT_FIELDS.expiresAtMs,
      String(revocation.expiresAtMs),
      EVENT_FIELDS.createdAtMs,
      String(revocation.createdAtMs),
    ];
    if (revocation.kind === 'user') fields.push(EVENT_FIELDS.cutoffMs, String(revocation.cutoffMs));
    const logOnly: string[] = [];
    if (origin !== undefined) {
      fields.push(EVENT_FIELDS.origin, origin);
      if (audit.reason !== undefined) logOnly.push(EVENT_FIELDS.reason, audit.reason);
      if (audit.actor !== undefined) logOnly.push(EVENT_FIELDS.actor, audit.actor);
    }
    return {
      recordCutoff: EVENT_FIELDS.cutoffMs,
      position: [EVENT_FIELDS.epoch, EVENT_FIELDS.seq, EVENT_FIELDS.prevLogId, EVENT_FIELDS.logId],
      fields,
      logOnly,
    };
  }

  /** The tidy script's field arguments: the expiry's name, and version 1's body field. */
  static tidyArguments(): readonly [string, string] {
    return [EVENT_FIELDS.expiresAtMs, V1_BODY_FIELD];
  }

  /**
   * The fields of a log entry, in the order the revoke script writes them (tests and tools that
   * forge entries use this). An event without `prevLogId` (as builds before it wrote) gets none.
   */
  static logFields(event: RevocationEvent): string[] {
    const { fields } = EventCodec.revokeArguments(event);
    const position = [EVENT_FIELDS.epoch, event.epoch, EVENT_FIELDS.seq, String(event.seq)];
    if (event.prevLogId !== undefined) position.push(EVENT_FIELDS.prevLogId, event.prevLogId);
    return [...fields, ...position];
  }

  /** The pub/sub message of an event, as the revoke script publishes it. */
  static message(event: RevocationEvent): string {
    const flat = EventCodec.logFields(event);
    const message: Record<string, string> = {};
    for (let i = 0; i < flat.length; i += 2) message[flat[i] as string] = flat[i + 1] as string;
    message[EVENT_FIELDS.logId] = event.logId;
    return JSON.stringify(message);
  }

  /**
   * A log entry as `XRANGE` returns it, of either wire format, never throwing: what cannot be read
   * comes back unreadable, to be stepped over (docs/revocation-model.md, "Unreadable log entries").
   */
  static logEntry(logId: string, flat: readonly string[]): LogEntry {
    const fields = new Map<string, string>();
    for (let i = 0; i + 1 < flat.length; i += 2)
      fields.set(flat[i] as string, flat[i + 1] as string);
    const v1 = fields.get(V1_BODY_FIELD);
    if (v1 !== undefined && !fields.has(EVENT_FIELDS.version)) return parseLogEntry(v1, logId);
    if (fields.size === 0) return { kind: 'unreadable', logId, reason: 'no fields' };
    return readLogEntry(
      EventCodec.fromFields((name) => fields.get(name)),
      logId,
    );
  }

  /**
   * The region a log entry (as `XRANGE` returns its fields) was made in; `undefined` for an entry
   * without one (written before regions were configured, or of the first wire format). The core
   * does not read it: only the bridge between regions does (docs/design.md, "Several regions").
   */
  static originOf(flat: readonly string[]): string | undefined {
    for (let i = 0; i + 1 < flat.length; i += 2) {
      if (flat[i] === EVENT_FIELDS.origin) return flat[i + 1];
    }
    return undefined;
  }

  /**
   * The reason and actor a log entry (as `XRANGE` returns its fields) was logged with; either is
   * absent from an entry without it (made without regions, or by an older build). Only the bridge
   * between regions reads them (docs/design.md, "Several regions").
   */
  static auditOf(flat: readonly string[]): LoggedAudit {
    let reason: string | undefined;
    let actor: string | undefined;
    for (let i = 0; i + 1 < flat.length; i += 2) {
      if (flat[i] === EVENT_FIELDS.reason) reason = flat[i + 1];
      else if (flat[i] === EVENT_FIELDS.actor) actor = flat[i + 1];
    }
    return {
      ...(reason === undefined ? {} : { reason }),
      ...(actor === undefined ? {} : { actor }),
    };
  }

  /**
   * A pub/sub message, decoded but not validated (the synchroniser validates and counts what is
   * malformed). Not JSON, or not an object: returned as `undefined` or as parsed, for the same.
   */
  static decodeMessage(payload: string): unknown {
    let parsed: unknown;
    try {
      parsed = JSON.parse(payload);
    } catch {
      return undefined;
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return parsed;
    // Every property is kept (another transport's framing is the receiver's to judge); only the
    // values of the numeric fields are converted, in place. JSON.parse makes a `__proto__` key a
    // plain own property, and nothing here assigns one.
    const decoded = parsed as Record<string, unknown>;
    for (const name of NUMERIC_NAMES) {
      if (Object.prototype.hasOwnProperty.call(decoded, name)) {
        decoded[name] = numeric(decoded[name]);
      }
    }
    return decoded;
  }

  /**
   * The JSON kept under a revocation's record key, with its audit trail. A position the object
   * carries (an event's) is left out: the revoke script adds the one it logs the record under.
   */
  static record(record: Revocation & { reason?: string; actor?: string; origin?: string }): string {
    const {
      epoch: _epoch,
      seq: _seq,
      logId: _logId,
      prevLogId: _prevLogId,
      ...rest
    } = record as Revocation & {
      reason?: string;
      actor?: string;
      origin?: string;
    } & Partial<RevocationEvent>;
    return JSON.stringify(rest);
  }

  /**
   * A record's JSON as it was stored, audit trail included, for listing (not validated), with
   * the log position it was recorded at when the store kept one (records written before it did,
   * or with a position that does not read as one, have none).
   */
  static recordOf(json: string): Revocation & {
    reason?: string;
    actor?: string;
    origin?: string;
    position?: { epoch: string; seq: number };
  } {
    const parsed = JSON.parse(json) as Revocation & {
      reason?: string;
      actor?: string;
      origin?: string;
      epoch?: unknown;
      seq?: unknown;
    };
    const { epoch, seq, ...record } = parsed;
    if (typeof epoch === 'string' && Number.isSafeInteger(seq) && (seq as number) > 0) {
      return { ...record, position: { epoch, seq: seq as number } };
    }
    return record;
  }

  /** The revocation held in a record's JSON. @throws MalformedEventError, SyntaxError */
  static revocationOfRecord(json: string): Revocation {
    return parseRevocation(JSON.parse(json));
  }

  /** Known fields by name, numbers converted; absent fields stay absent. */
  private static fromFields(get: (name: string) => unknown): Record<string, unknown> {
    const decoded: Record<string, unknown> = {};
    for (const name of DECODED_NAMES) {
      const value = get(name);
      if (value !== undefined) decoded[name] = NUMERIC_NAMES.has(name) ? numeric(value) : value;
    }
    return decoded;
  }
}

/** A decimal string as a number; anything else as it is, for validation to judge. */
function numeric(value: unknown): unknown {
  return typeof value === 'string' && DECIMAL.test(value) ? Number(value) : value;
}
