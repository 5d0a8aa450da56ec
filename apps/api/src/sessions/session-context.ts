import { clientAddress } from '../auth/login-throttle';

/** Longest `User-Agent` kept with a session; the rest is cut (it is shown, never parsed). */
export const USER_AGENT_MAX_LENGTH = 256;

/** Where a session was started or last refreshed from, as `GET /auth/sessions` lists it. */
export interface ClientContext {
  readonly userAgent?: string;
  readonly ip?: string;
}

/**
 * The client's context: its `User-Agent` (printable characters only, cut to
 * {@link USER_AGENT_MAX_LENGTH}) and its address as the throttles see it: the socket's, or the
 * one a trusted proxy names (`TRUST_PROXY`), an IPv4-mapped IPv6 address reduced to IPv4.
 */
export function clientContext(
  headers: Record<string, string | string[] | undefined>,
  ip: string | undefined,
): ClientContext {
  const agent = headers['user-agent'];
  const userAgent =
    typeof agent === 'string'
      ? agent.replace(/[^\x20-\x7e]/g, '').slice(0, USER_AGENT_MAX_LENGTH)
      : undefined;
  return {
    ...(userAgent === undefined || userAgent === '' ? {} : { userAgent }),
    ...(ip === undefined || ip === '' ? {} : { ip: clientAddress(ip) }),
  };
}
