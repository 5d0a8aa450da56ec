import { createHash, createSecretKey, KeyObject } from 'node:crypto';
import {
  type Clock,
  defaultPresenceTtlMs,
  defaultSyncIntervalMs,
  type Milliseconds,
  REVOCATION_DEFAULTS,
  type Seconds,
  systemClock,
} from '@rescind/revocation-core';
import {
  effectiveKeyPrefix,
  type RedisTopology,
  type RedisTopologyInput,
  resolveRedisTopology,
} from '@rescind/revocation-redis';

/** What a replica does once it cannot confirm it is in sync for longer than the bound. */
export type FailMode = 'closed' | 'open';

/** HMAC algorithms accepted for access tokens. */
export type JwtAlgorithm = 'HS256' | 'HS384' | 'HS512';

/** An OpenID provider whose access tokens the guard accepts too (docs/design.md, "External issuers"). */
export interface ExternalIssuerOptions {
  /** The `iss` its tokens carry, exactly; discovery is at `<issuer>/.well-known/openid-configuration`. */
  issuer: string;
  /** What its tokens' `aud` must contain. */
  audience: string;
  /** Our client id at the provider (the audience of its logout tokens). */
  clientId?: string;
  /** The claim that names each access token uniquely, revoked by it. @default 'jti' (Entra: 'uti') */
  tokenIdClaim?: string;
  /**
   * What a logout naming one of its sessions revokes: `session`, the tokens carrying that `sid`;
   * `user`, every earlier token of the logout's `sub`, for a provider whose access tokens carry
   * no `sid` (docs/design.md, "External issuers"). @default 'session'
   */
  logoutRevokes?: 'session' | 'user';
  /** Least time between two JWKS refetches caused by an unknown `kid`. @default 30_000 */
  jwksCooldownMs?: Milliseconds;
  /** How often its keys are refetched anyway, to hold a new key before its first token. @default 300_000 */
  jwksRefreshMs?: Milliseconds;
  /** Longest wait for the discovery document or the JWKS. @default 5_000 */
  fetchTimeoutMs?: Milliseconds;
}

/** An external issuer after validation, with its namespace tag. */
export interface ResolvedExternalIssuer {
  readonly issuer: string;
  readonly audience: string;
  readonly clientId: string | undefined;
  readonly tokenIdClaim: string;
  readonly logoutRevokes: 'session' | 'user';
  readonly jwksCooldownMs: Milliseconds;
  readonly jwksRefreshMs: Milliseconds;
  readonly fetchTimeoutMs: Milliseconds;
  /** The prefix of its tokens' `jti`, `sub` and `sid` in revocations: `~<tag>~`. */
  readonly idPrefix: string;
}

/**
 * A Shared Signals transmitter whose CAEP events, pushed to the receiver as RFC 8417 Security
 * Event Tokens (RFC 8935), revoke sessions and users (docs/design.md, "Security events (CAEP)").
 */
export interface SecurityEventTransmitterOptions {
  /** The `iss` its SETs carry, exactly; its metadata is at `/.well-known/ssf-configuration`. */
  issuer: string;
  /** What its SETs' `aud` must contain. */
  audience: string;
  /** The `Authorization: Bearer` credential its pushes must carry (RFC 8935 §3). @default none */
  pushToken?: string;
  /** Least time between two JWKS refetches caused by an unknown `kid`. @default 30_000 */
  jwksCooldownMs?: Milliseconds;
  /** How often its keys are refetched anyway. @default 300_000 */
  jwksRefreshMs?: Milliseconds;
  /** Longest wait for its metadata or its JWKS. @default 5_000 */
  fetchTimeoutMs?: Milliseconds;
}

/** A transmitter after validation, with the scope its SETs' `jti`s are claimed in. */
export interface ResolvedSecurityEventTransmitter {
  readonly issuer: string;
  readonly audience: string;
  readonly pushToken: string | undefined;
  readonly jwksCooldownMs: Milliseconds;
  readonly jwksRefreshMs: Milliseconds;
  readonly fetchTimeoutMs: Milliseconds;
  /** `ssf.` and the issuer's tag (as in {@link externalIdPrefix}): one replay scope each. */
  readonly replayScope: string;
}

/**
 * Options of `RevocationModule.forRoot()`. Defaults are those of `REVOCATION_DEFAULTS`
 * (`@rescind/revocation-core`), the one place they are written.
 */
export interface RevocationModuleOptions {
  /**
   * The store and the pub/sub bus: a `redis://` or `rediss://` URL (one server), or a
   * `RedisTopology` for Sentinel (`{ kind: 'sentinel', url, sentinels, name }`) or a cluster
   * (`{ kind: 'cluster', url, nodes }`, the key prefix then gets a hash tag, e.g. `{rvk}`), whose
   * `url` still supplies credentials, TLS and the database.
   */
  redis: RedisTopologyInput;
  /** Namespace of every key and channel. @default REVOCATION_DEFAULTS.keyPrefix */
  keyPrefix?: string;
  /** HMAC signing key; a string is turned into a `KeyObject` once. */
  jwtSecret: string | Buffer | KeyObject;
  /** Keys rotated out: tokens they signed (named by `kid`) still verify until they expire. */
  jwtPreviousSecrets?: readonly (string | Buffer | KeyObject)[];
  /** @default REVOCATION_DEFAULTS.jwtAlgorithm */
  jwtAlgorithm?: JwtAlgorithm;
  /**
   * Lifetime of issued tokens, also the longest lifetime accepted.
   * @default REVOCATION_DEFAULTS.accessTokenTtlSeconds
   */
  accessTokenTtlSeconds?: Seconds;
  /** Entries held in the in-memory cache. @default REVOCATION_DEFAULTS.cacheMaxEntries */
  cacheMaxEntries?: number;
  /**
   * Tokens remembered as verified, so that a token presented again costs a lookup instead of a
   * signature check (its expiry is still checked every time; revocation is checked as always).
   * 0 verifies every request. @default REVOCATION_DEFAULTS.verifiedTokenCacheMax
   */
  verifiedTokenCacheMax?: number;
  /** @default REVOCATION_DEFAULTS.failMode */
  failMode?: FailMode;
  /** @default REVOCATION_DEFAULTS.maxStalenessMs */
  maxStalenessMs?: Milliseconds;
  /** Name of this replica. @default `<hostname>-<pid>` */
  instanceId?: string;
  /**
   * Period of the anti-entropy catch-up.
   * @default defaultSyncIntervalMs(maxStalenessMs): max(50, min(1000, maxStalenessMs / 4))
   */
  syncIntervalMs?: Milliseconds;
  /**
   * Largest disagreement tolerated between the clocks of the replicas that issue and verify
   * tokens: a token issued up to this far in the future is accepted, so every cut-off (logout-all,
   * the store-wide not-before) reaches this far past the clock that takes it.
   * @default REVOCATION_DEFAULTS.clockSkewMs
   */
  clockSkewMs?: Milliseconds;
  /**
   * The clock every revocation decision reads (token dates, expiry, cut-offs, staleness),
   * provided as `REVOCATION_CLOCK`. It must move forward like real time: `issue()` and
   * `revokeAllForUser()` wait for it. Tests give a shifted one. @default systemClock
   */
  clock?: Clock;
  /**
   * Lifetime of a refresh token; every rotation gives the new one this long, so an idle session
   * ends this long after its last refresh (docs/design.md, "Sessions").
   * @default REVOCATION_DEFAULTS.refreshTokenTtlSeconds
   */
  refreshTokenTtlSeconds?: Seconds;
  /**
   * How long after a rotation the refresh token rotated out is still answered with a fresh
   * sibling pair instead of being taken for reuse (concurrent refreshes); 0 disables.
   * @default REVOCATION_DEFAULTS.refreshReuseGraceMs
   */
  refreshReuseGraceMs?: Milliseconds;
  /**
   * OpenID providers whose access tokens every guarded route accepts too, verified with the keys
   * of their JWKS; their ids are namespaced (docs/design.md, "External issuers"). @default none
   */
  externalIssuers?: readonly ExternalIssuerOptions[];
  /**
   * Shared Signals transmitters whose pushed CAEP events `SecurityEventReceiver` applies
   * (docs/design.md, "Security events (CAEP)"). @default none
   */
  securityEventTransmitters?: readonly SecurityEventTransmitterOptions[];
  /**
   * Where this replica runs (e.g. `eu-west-1`), published with its status and recorded as the
   * origin of every revocation it makes, which the bridges between regions go by
   * (docs/design.md, "Several regions"): 1-64 of `[A-Za-z0-9_.:-]`. @default none (the status
   * has no region, revocations no origin)
   */
  region?: string;
  /**
   * How often the replica writes its status to the store even when nothing changed
   * (docs/design.md, "Fleet presence"). @default REVOCATION_DEFAULTS.presenceHeartbeatMs
   */
  presenceHeartbeatMs?: Milliseconds;
  /**
   * Lifetime of the status: a replica that stopped writing (killed, frozen, cut off) leaves the
   * fleet this long after its last write. Longer than the heartbeat.
   * @default defaultPresenceTtlMs(presenceHeartbeatMs): three heartbeats
   */
  presenceTtlMs?: Milliseconds;
  /**
   * Least time between two status writes: the moves of the log position within it are written
   * as one, so that a replica writes at most 1000 / this many statuses a second whatever the
   * revocation rate. At most the heartbeat. @default REVOCATION_DEFAULTS.presenceMinIntervalMs
   */
  presenceMinIntervalMs?: Milliseconds;
}

/** The option names, to reject any other (a typo, or an option this module does not have). */
const OPTION_NAMES: ReadonlySet<string> = new Set<keyof RevocationModuleOptions>([
  'redis',
  'keyPrefix',
  'jwtSecret',
  'jwtPreviousSecrets',
  'jwtAlgorithm',
  'accessTokenTtlSeconds',
  'cacheMaxEntries',
  'verifiedTokenCacheMax',
  'failMode',
  'maxStalenessMs',
  'instanceId',
  'syncIntervalMs',
  'clockSkewMs',
  'clock',
  'refreshTokenTtlSeconds',
  'refreshReuseGraceMs',
  'externalIssuers',
  'securityEventTransmitters',
  'region',
  'presenceHeartbeatMs',
  'presenceTtlMs',
  'presenceMinIntervalMs',
]);

/** Options after defaults and validation, as the providers see them. */
export interface ResolvedRevocationOptions {
  readonly redisTopology: RedisTopology;
  readonly keyPrefix: string;
  readonly jwtKey: KeyObject;
  readonly jwtPreviousKeys: readonly KeyObject[];
  readonly jwtAlgorithm: JwtAlgorithm;
  readonly accessTokenTtlSeconds: Seconds;
  readonly cacheMaxEntries: number;
  readonly verifiedTokenCacheMax: number;
  readonly failMode: FailMode;
  readonly maxStalenessMs: Milliseconds;
  readonly instanceId: string;
  readonly syncIntervalMs: Milliseconds;
  readonly clockSkewMs: Milliseconds;
  readonly clock: Clock;
  readonly refreshTokenTtlSeconds: Seconds;
  readonly refreshReuseGraceMs: Milliseconds;
  readonly externalIssuers: readonly ResolvedExternalIssuer[];
  readonly securityEventTransmitters: readonly ResolvedSecurityEventTransmitter[];
  readonly region: string | undefined;
  readonly presenceHeartbeatMs: Milliseconds;
  readonly presenceTtlMs: Milliseconds;
  readonly presenceMinIntervalMs: Milliseconds;
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`${name} must be a positive integer, got ${String(value)}`);
  }
  return value;
}

function nonNegativeInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${name} must be a non-negative integer, got ${String(value)}`);
  }
  return value;
}

function oneOf<T extends string>(name: string, value: T, allowed: readonly T[]): T {
  if (!allowed.includes(value)) {
    throw new RangeError(`${name} must be one of ${allowed.join(', ')}, got "${value}"`);
  }
  return value;
}

/**
 * Shortest signing key accepted: RFC 7518 §3.2 requires an HMAC key at least as long as the hash
 * output, 32 bytes for HS256 (HS384 and HS512 ask 48 and 64, which this floor does not enforce).
 */
export const MIN_JWT_SECRET_BYTES = 32;

const SECRET_HINT =
  `pass a secret of at least ${MIN_JWT_SECRET_BYTES} bytes ` +
  '(e.g. process.env.JWT_SECRET, made with openssl rand -base64 32)';

/**
 * The `KeyObject` of an HMAC secret, or a RangeError naming the option and the fix. `minBytes`
 * is {@link MIN_JWT_SECRET_BYTES} for the signing key; keys rotated out only need to be non-empty,
 * so that a rotation under way keeps verifying the tokens they signed.
 */
function secretKey(name: string, secret: unknown, minBytes: number): KeyObject {
  if (secret === undefined || secret === null) {
    throw new RangeError(`RevocationModule: ${name} is required: ${SECRET_HINT}`);
  }
  let key: KeyObject;
  if (typeof secret === 'string' || Buffer.isBuffer(secret)) {
    if (secret.length === 0) {
      throw new RangeError(`RevocationModule: ${name} is empty: ${SECRET_HINT}`);
    }
    key = createSecretKey(Buffer.from(secret));
  } else if (secret instanceof KeyObject) {
    key = secret;
  } else {
    throw new RangeError(
      `RevocationModule: ${name} must be a string, a Buffer or a secret KeyObject: ${SECRET_HINT}`,
    );
  }
  if (key.type !== 'secret' || (key.symmetricKeySize ?? 0) < 1) {
    throw new RangeError(`RevocationModule: ${name} must be a non-empty HMAC secret`);
  }
  const size = key.symmetricKeySize ?? 0;
  if (size < minBytes) {
    throw new RangeError(
      `RevocationModule: ${name} is too weak (${size} bytes; RFC 7518 §3.2 asks at least ` +
        `${minBytes} for HS256): ${SECRET_HINT}`,
    );
  }
  return key;
}

function clock(value: Clock): Clock {
  if (typeof value?.now !== 'function') throw new RangeError('clock must have a now() method');
  return value;
}

/**
 * The namespace of an issuer's ids: `~` and 8 base64url characters of the SHA-256 of its `iss`,
 * then `~`. Our own ids never start with `~` (`TokenService` refuses them), and the tag has no
 * `~`, so no external id equals one of ours or another issuer's (docs/design.md, "External issuers").
 */
export function externalIdPrefix(issuer: string): string {
  return `~${createHash('sha256').update(issuer).digest('base64url').slice(0, 8)}~`;
}

const EXTERNAL_ISSUER_OPTION_NAMES: ReadonlySet<string> = new Set<keyof ExternalIssuerOptions>([
  'issuer',
  'audience',
  'clientId',
  'tokenIdClaim',
  'logoutRevokes',
  'jwksCooldownMs',
  'jwksRefreshMs',
  'fetchTimeoutMs',
]);

function externalIssuers(list: readonly ExternalIssuerOptions[]): ResolvedExternalIssuer[] {
  const prefixes = new Set<string>();
  return list.map((options, i) => {
    const name = `externalIssuers[${i}]`;
    for (const key of Object.keys(options)) {
      if (!EXTERNAL_ISSUER_OPTION_NAMES.has(key))
        throw new RangeError(`${name}.${key} is not an option`);
    }
    let url: URL;
    try {
      url = new URL(options.issuer);
    } catch {
      throw new RangeError(`${name}.issuer must be an http(s) URL`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new RangeError(`${name}.issuer must be an http(s) URL`);
    }
    if (typeof options.audience !== 'string' || options.audience.length === 0) {
      throw new RangeError(`${name}.audience must be a non-empty string`);
    }
    if (
      options.clientId !== undefined &&
      (typeof options.clientId !== 'string' || options.clientId === '')
    ) {
      throw new RangeError(`${name}.clientId must be a non-empty string`);
    }
    const tokenIdClaim = options.tokenIdClaim ?? 'jti';
    if (typeof tokenIdClaim !== 'string' || !/^[A-Za-z0-9_.:-]{1,64}$/.test(tokenIdClaim)) {
      throw new RangeError(`${name}.tokenIdClaim must be a claim name`);
    }
    const idPrefix = externalIdPrefix(options.issuer);
    if (prefixes.has(idPrefix)) throw new RangeError(`${name}.issuer is listed twice`);
    prefixes.add(idPrefix);
    return {
      issuer: options.issuer,
      audience: options.audience,
      clientId: options.clientId,
      tokenIdClaim,
      logoutRevokes: oneOf(`${name}.logoutRevokes`, options.logoutRevokes ?? 'session', [
        'session',
        'user',
      ]),
      jwksCooldownMs: nonNegativeInteger(
        `${name}.jwksCooldownMs`,
        options.jwksCooldownMs ?? 30_000,
      ),
      jwksRefreshMs: positiveInteger(`${name}.jwksRefreshMs`, options.jwksRefreshMs ?? 300_000),
      fetchTimeoutMs: positiveInteger(`${name}.fetchTimeoutMs`, options.fetchTimeoutMs ?? 5_000),
      idPrefix,
    };
  });
}

const TRANSMITTER_OPTION_NAMES: ReadonlySet<string> = new Set<
  keyof SecurityEventTransmitterOptions
>(['issuer', 'audience', 'pushToken', 'jwksCooldownMs', 'jwksRefreshMs', 'fetchTimeoutMs']);

function securityEventTransmitters(
  list: readonly SecurityEventTransmitterOptions[],
): ResolvedSecurityEventTransmitter[] {
  const scopes = new Set<string>();
  return list.map((options, i) => {
    const name = `securityEventTransmitters[${i}]`;
    for (const key of Object.keys(options)) {
      if (!TRANSMITTER_OPTION_NAMES.has(key))
        throw new RangeError(`${name}.${key} is not an option`);
    }
    let url: URL | undefined;
    try {
      url = new URL(options.issuer);
    } catch {
      url = undefined;
    }
    if (url === undefined || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
      throw new RangeError(`${name}.issuer must be an http(s) URL`);
    }
    if (typeof options.audience !== 'string' || options.audience.length === 0) {
      throw new RangeError(`${name}.audience must be a non-empty string`);
    }
    if (
      options.pushToken !== undefined &&
      (typeof options.pushToken !== 'string' || !/^[\x21-\x7e]{1,1024}$/.test(options.pushToken))
    ) {
      throw new RangeError(`${name}.pushToken must be 1-1024 printable characters`);
    }
    const replayScope = `ssf.${externalIdPrefix(options.issuer).slice(1, -1)}`;
    if (scopes.has(replayScope)) throw new RangeError(`${name}.issuer is listed twice`);
    scopes.add(replayScope);
    return {
      issuer: options.issuer,
      audience: options.audience,
      pushToken: options.pushToken,
      jwksCooldownMs: nonNegativeInteger(
        `${name}.jwksCooldownMs`,
        options.jwksCooldownMs ?? 30_000,
      ),
      jwksRefreshMs: positiveInteger(`${name}.jwksRefreshMs`, options.jwksRefreshMs ?? 300_000),
      fetchTimeoutMs: positiveInteger(`${name}.fetchTimeoutMs`, options.fetchTimeoutMs ?? 5_000),
      replayScope,
    };
  });
}

function region(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^[A-Za-z0-9_.:-]{1,64}$/.test(value)) {
    throw new RangeError(
      `region must be 1-64 of [A-Za-z0-9_.:-], got ${JSON.stringify(String(value).slice(0, 80))}`,
    );
  }
  return value;
}

/** The presence timings, checked against one another (docs/design.md, "Fleet presence"). */
function presenceTimings(
  options: RevocationModuleOptions,
): Pick<
  ResolvedRevocationOptions,
  'presenceHeartbeatMs' | 'presenceTtlMs' | 'presenceMinIntervalMs'
> {
  const heartbeat = positiveInteger(
    'presenceHeartbeatMs',
    options.presenceHeartbeatMs ?? REVOCATION_DEFAULTS.presenceHeartbeatMs,
  );
  const ttl = positiveInteger(
    'presenceTtlMs',
    options.presenceTtlMs ?? defaultPresenceTtlMs(heartbeat),
  );
  if (ttl <= heartbeat) {
    throw new RangeError(
      `presenceTtlMs (${ttl}) must be longer than presenceHeartbeatMs (${heartbeat}), ` +
        'or a live replica vanishes from the fleet between two heartbeats',
    );
  }
  const minInterval = nonNegativeInteger(
    'presenceMinIntervalMs',
    options.presenceMinIntervalMs ?? Math.min(REVOCATION_DEFAULTS.presenceMinIntervalMs, heartbeat),
  );
  if (minInterval > heartbeat) {
    throw new RangeError(
      `presenceMinIntervalMs (${minInterval}) must be at most presenceHeartbeatMs (${heartbeat})`,
    );
  }
  return { presenceHeartbeatMs: heartbeat, presenceTtlMs: ttl, presenceMinIntervalMs: minInterval };
}

/** Applies defaults and rejects invalid values with a message naming the option. */
export function resolveRevocationOptions(
  options: RevocationModuleOptions,
  defaultInstanceId: string,
): ResolvedRevocationOptions {
  for (const name of Object.keys(options)) {
    if (!OPTION_NAMES.has(name))
      throw new RangeError(`${name} is not an option of RevocationModule`);
  }
  const defaults = REVOCATION_DEFAULTS;
  const maxStalenessMs = positiveInteger(
    'maxStalenessMs',
    options.maxStalenessMs ?? defaults.maxStalenessMs,
  );
  const jwtKey = secretKey('jwtSecret', options.jwtSecret, MIN_JWT_SECRET_BYTES);
  const jwtPreviousKeys = (options.jwtPreviousSecrets ?? []).map((secret, i) =>
    secretKey(`jwtPreviousSecrets[${i}]`, secret, 1),
  );
  const redisTopology = resolveRedisTopology(options.redis);
  return {
    redisTopology,
    keyPrefix: effectiveKeyPrefix(options.keyPrefix ?? defaults.keyPrefix, redisTopology),
    jwtKey,
    jwtPreviousKeys,
    jwtAlgorithm: oneOf('jwtAlgorithm', options.jwtAlgorithm ?? defaults.jwtAlgorithm, [
      'HS256',
      'HS384',
      'HS512',
    ]),
    accessTokenTtlSeconds: positiveInteger(
      'accessTokenTtlSeconds',
      options.accessTokenTtlSeconds ?? defaults.accessTokenTtlSeconds,
    ),
    cacheMaxEntries: positiveInteger(
      'cacheMaxEntries',
      options.cacheMaxEntries ?? defaults.cacheMaxEntries,
    ),
    verifiedTokenCacheMax: nonNegativeInteger(
      'verifiedTokenCacheMax',
      options.verifiedTokenCacheMax ?? defaults.verifiedTokenCacheMax,
    ),
    failMode: oneOf('failMode', options.failMode ?? defaults.failMode, ['closed', 'open']),
    maxStalenessMs,
    instanceId: options.instanceId ?? defaultInstanceId,
    syncIntervalMs: positiveInteger(
      'syncIntervalMs',
      options.syncIntervalMs ?? defaultSyncIntervalMs(maxStalenessMs),
    ),
    clockSkewMs: nonNegativeInteger('clockSkewMs', options.clockSkewMs ?? defaults.clockSkewMs),
    clock: clock(options.clock ?? systemClock),
    refreshTokenTtlSeconds: positiveInteger(
      'refreshTokenTtlSeconds',
      options.refreshTokenTtlSeconds ?? defaults.refreshTokenTtlSeconds,
    ),
    refreshReuseGraceMs: nonNegativeInteger(
      'refreshReuseGraceMs',
      options.refreshReuseGraceMs ?? defaults.refreshReuseGraceMs,
    ),
    externalIssuers: externalIssuers(options.externalIssuers ?? []),
    securityEventTransmitters: securityEventTransmitters(options.securityEventTransmitters ?? []),
    region: region(options.region),
    ...presenceTimings(options),
  };
}
