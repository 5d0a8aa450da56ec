import { type SessionInfo } from '@rescind/revocation-nest';

/** One live session as the API lists it, to its user and to administrators alike. */
export interface SessionItem {
  sid: string;
  created_at: string;
  last_used_at: string;
  user_agent: string | null;
  ip: string | null;
}

/** A stored session in the shape of {@link SessionItem}. */
export function sessionItem(session: SessionInfo): SessionItem {
  return {
    sid: session.sid,
    created_at: new Date(session.createdAtMs).toISOString(),
    last_used_at: new Date(session.lastUsedAtMs).toISOString(),
    user_agent: session.userAgent ?? null,
    ip: session.ip ?? null,
  };
}
