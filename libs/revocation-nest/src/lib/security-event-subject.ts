import { isRevocationId, MAX_ID_LENGTH } from '@rescind/revocation-core';
import { SecurityEventError } from './security-event.error';

/** Which of our id namespaces a subject's identifiers are in (docs/design.md, "External issuers"). */
export interface SubjectNamespaces {
  /** The id prefix of the external issuer whose `iss` this is; undefined when not configured. */
  prefixOf(iss: string): string | undefined;
  /**
   * The prefix of `opaque` identifiers: the external issuer that is also the transmitter, or `''`
   * (our own ids) when the transmitter is no issuer of ours.
   */
  readonly opaquePrefix: string;
}

/** What a CAEP event's subject names, as ids of ours (namespaced for an external issuer). */
export interface EventSubject {
  /** The user (`sub`) whose tokens a cut-off revokes. */
  readonly user?: string;
  /** The session (`sid`) whose tokens a session revocation revokes. */
  readonly session?: string;
}

/** A subject naming only identifiers of an issuer not configured: nothing of ours to revoke. */
export const FOREIGN_SUBJECT = 'foreign';

function refuse(description: string): never {
  throw new SecurityEventError('invalid_request', description);
}

function member(subject: Record<string, unknown>, name: string): string {
  const value = subject[name];
  if (typeof value !== 'string') refuse(`The subject's ${name} must be a string`);
  return value;
}

/** `prefix + raw`, when that is an id of ours: within 256 characters, never `~` for our own. */
function namespaced(prefix: string | undefined, raw: string): string | undefined {
  if (prefix === undefined) return undefined;
  const id = prefix + raw;
  if (!isRevocationId(raw) || id.length > MAX_ID_LENGTH || (prefix === '' && raw.startsWith('~'))) {
    refuse('The subject names an identifier that is not 1-256 printable characters');
  }
  return id;
}

/**
 * The id a simple subject (RFC 9493 §3.2) names: `iss_sub` in its issuer's namespace (undefined
 * for an issuer not configured), `opaque` in {@link SubjectNamespaces.opaquePrefix}.
 * @throws SecurityEventError `invalid_request` for any other format or a malformed one
 */
function simpleId(subject: unknown, namespaces: SubjectNamespaces): string | undefined {
  if (typeof subject !== 'object' || subject === null || Array.isArray(subject)) {
    refuse('The subject must be an object');
  }
  const fields = subject as Record<string, unknown>;
  switch (fields['format']) {
    case 'iss_sub':
      return namespaced(namespaces.prefixOf(member(fields, 'iss')), member(fields, 'sub'));
    case 'opaque':
      return namespaced(namespaces.opaquePrefix, member(fields, 'id'));
    default:
      return refuse('The subject format is not supported (iss_sub, opaque or complex)');
  }
}

/**
 * Reads a CAEP subject: a simple one (`iss_sub`, `opaque`: the user) or a complex one (SSF 1.0
 * §3.3, `format: "complex"` or none) whose `user` and `session` members are simple subjects; its
 * other members (device, tenant…) are not ours to act on.
 * @returns the user and/or session named, or {@link FOREIGN_SUBJECT} when every id it names is
 *   another issuer's
 * @throws SecurityEventError `invalid_request` for a malformed or unsupported subject
 */
export function readSubject(
  subject: unknown,
  namespaces: SubjectNamespaces,
): EventSubject | typeof FOREIGN_SUBJECT {
  if (typeof subject !== 'object' || subject === null || Array.isArray(subject)) {
    return refuse('The event has no subject (sub_id or the subject of the event)');
  }
  const fields = subject as Record<string, unknown>;
  const complex =
    fields['format'] === 'complex' ||
    (fields['format'] === undefined && ('user' in fields || 'session' in fields));
  if (!complex) {
    const user = simpleId(subject, namespaces);
    return user === undefined ? FOREIGN_SUBJECT : { user };
  }
  if (fields['user'] === undefined && fields['session'] === undefined) {
    refuse('A complex subject must name a user or a session');
  }
  const user = fields['user'] === undefined ? undefined : simpleId(fields['user'], namespaces);
  const session =
    fields['session'] === undefined ? undefined : simpleId(fields['session'], namespaces);
  if (user === undefined && session === undefined) return FOREIGN_SUBJECT;
  return {
    ...(user === undefined ? {} : { user }),
    ...(session === undefined ? {} : { session }),
  };
}
