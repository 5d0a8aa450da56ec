import { type Milliseconds, type Seconds } from './units';

/**
 * The one home of every default of the revocation library and of the environment that configures
 * it: the NestJS module, the store, the synchroniser, the cache and `libs/config` all read their
 * defaults here, so that none is restated and none drifts (docs/design.md, "Options and defaults").
 */
export const REVOCATION_DEFAULTS = {
  /** Namespace of every key and channel (`KEY_PREFIX`). */
  keyPrefix: 'rvk',
  /** HMAC algorithm of access tokens. */
  jwtAlgorithm: 'HS256',
  /** Lifetime of issued tokens, also the longest accepted (`ACCESS_TOKEN_TTL`). */
  accessTokenTtlSeconds: 900 as Seconds,
  /** Entries held in each replica's cache (`REVOCATION_CACHE_MAX`). */
  cacheMaxEntries: 1_000_000,
  /** Tokens remembered as verified (`VERIFIED_TOKEN_CACHE_MAX`). */
  verifiedTokenCacheMax: 10_000,
  /** What a replica does once out of sync longer than the bound (`FAIL_MODE`). */
  failMode: 'closed',
  /** The staleness bound (`MAX_STALENESS_MS`). */
  maxStalenessMs: 5000 as Milliseconds,
  /**
   * How far ahead of a verifier's clock a token's `iat` may be, and so how far past the clock
   * every cut-off reaches (`CLOCK_SKEW_MS`): enough for hosts whose clocks NTP keeps together,
   * small enough that logout-all (which returns once the clock has passed its cut-off) stays well
   * under a second (docs/design.md, "Cut-offs and clocks").
   */
  clockSkewMs: 500 as Milliseconds,
  /** Log entries read per round trip while catching up. */
  catchUpPageSize: 1000,
  /** While the subscription is down, how often the log is polled instead, at first. */
  unsubscribedPollMs: 25 as Milliseconds,
  /** Index members read per page while hydrating. */
  snapshotPageSize: 10_000,
  /**
   * Lifetime of a refresh token, renewed by every rotation, so also how long an idle session
   * lives (`REFRESH_TOKEN_TTL`, 14 days; docs/design.md, "Sessions").
   */
  refreshTokenTtlSeconds: 1_209_600 as Seconds,
  /**
   * How long a refresh token rotated out may still be presented and answered with a fresh
   * sibling pair rather than taken for reuse (`REFRESH_REUSE_GRACE_MS`; 0 disables): two tabs
   * refreshing at once are not a theft (docs/design.md, "Sessions").
   */
  refreshReuseGraceMs: 10_000 as Milliseconds,
  /**
   * How often a replica writes its status to the store even when nothing changed
   * (`PRESENCE_HEARTBEAT_MS`; docs/design.md, "Fleet presence"). Its key lives
   * {@link defaultPresenceTtlMs} of it.
   */
  presenceHeartbeatMs: 1000 as Milliseconds,
  /**
   * Least time between two status writes of one replica, however fast its position moves:
   * at most 10 a second, so that a thousand replicas under any revocation rate cost the store a
   * bounded load (docs/design.md, "Fleet presence").
   */
  presenceMinIntervalMs: 100 as Milliseconds,
} as const;

/**
 * Lifetime of a replica's status key when none is given: three heartbeats, so that one lost
 * or late write does not make a live replica vanish, and a dead one is gone within seconds.
 */
export function defaultPresenceTtlMs(heartbeatMs: Milliseconds): Milliseconds {
  return 3 * heartbeatMs;
}

/**
 * Period of the anti-entropy catch-up when none is given (`SYNC_INTERVAL_MS`): a quarter of the
 * staleness bound, so that a missed event is caught several times within it, at most once a
 * second and at least every 50 ms.
 */
export function defaultSyncIntervalMs(maxStalenessMs: Milliseconds): Milliseconds {
  return Math.max(50, Math.min(1000, Math.floor(maxStalenessMs / 4)));
}
