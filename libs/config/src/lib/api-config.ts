import { isIP } from 'node:net';
import { availableParallelism, hostname } from 'node:os';
import { type Milliseconds, REVOCATION_DEFAULTS, type Seconds } from '@rescind/revocation-core';
import { ConfigError } from './config.error';
import { type Env, EnvReader } from './env-reader';
import { type LogFormat, readLogFormat } from './log-format';
import { readRedisConfig, type RedisConfig } from './redis-config';
import { readRegion } from './region-config';
import { DEVELOPMENT_JWT_SECRET, secretWeakness } from './secret-strength';

export { DEVELOPMENT_JWT_SECRET } from './secret-strength';

/**
 * `PASSWORD_HASH_COST` by default and its least value in production: Argon2id memory in KiB,
 * OWASP's minimum configuration (m = 19 MiB, t = 2, p = 1).
 */
export const PASSWORD_HASH_MIN_PRODUCTION_COST = 19_456;

/**
 * `LOGIN_MAX_CONCURRENT_HASHES` when unset: every core but one, so that one core is always left
 * to the event loop that serves reads, and at least one; and at most one less than libuv's thread
 * pool (`UV_THREADPOOL_SIZE`, 4 by default), where the hashes run, so that a thread is always left
 * for the pool's other work (DNS lookups, file reads). `replicas` sharing the machine split the
 * cores (what `npm start` gives each of its replicas). README, "Configuration"; docs/design.md,
 * "Login bulkhead".
 */
export function defaultLoginMaxConcurrentHashes(
  cores: number = availableParallelism(),
  threadPoolSize?: string,
  replicas = 1,
): number {
  const pool = /^\d+$/.test(threadPoolSize?.trim() ?? '') ? Number(threadPoolSize) : 4;
  return Math.max(1, Math.min(Math.floor((cores - 1) / Math.max(1, replicas)), pool - 1));
}

/** How an API replica checks revocation (`REVOCATION_STRATEGY`). */
export type RevocationStrategy = 'local' | 'redis' | 'none';

/** Trusted proxies: how many hops, or which addresses (`10.0.0.0/8`, `::1`). */
export type TrustProxy = number | readonly string[];

/** An IPv4 or IPv6 address, optionally with a prefix length (`/24`) within its family. */
function isAddressOrCidr(value: string): boolean {
  const [address = '', prefix, ...rest] = value.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

/**
 * `TRUST_PROXY`: a hop count, or a comma-separated list of addresses and CIDRs. `true`-like values
 * are refused: trusting every peer would let any client choose its address, and so its throttles.
 */
function readTrustProxy(read: EnvReader): TrustProxy | undefined {
  const raw = read.optional('TRUST_PROXY')?.trim();
  if (raw === undefined || raw === '') return undefined;
  if (/^\d+$/.test(raw)) {
    const hops = Number(raw);
    if (hops > 0 && hops <= 32) return hops;
  } else {
    const entries = raw.split(',').map((entry) => entry.trim());
    if (entries.every(isAddressOrCidr)) return entries;
  }
  read.fail(
    `TRUST_PROXY must be a hop count from 1 to 32 or a comma-separated list of IP addresses or CIDRs (e.g. 10.0.0.0/8,::1), got "${raw}"`,
  );
  return undefined;
}

/** Everything the API reads from the environment, validated once at start-up. */
export interface ApiConfig extends RedisConfig {
  /** `NODE_ENV` */
  readonly nodeEnv: string;
  readonly production: boolean;
  /** `JWT_SECRET` or the file `JWT_SECRET_FILE` names. */
  readonly jwtSecret: string;
  /**
   * `JWT_PREVIOUS_SECRETS` (comma-separated) or the file `JWT_PREVIOUS_SECRETS_FILE` names (comma-
   * or newline-separated): keys rotated out, still accepted for verification.
   */
  readonly jwtPreviousSecrets: readonly string[];
  /** `ACCESS_TOKEN_TTL` */
  readonly accessTokenTtlSeconds: Seconds;
  /**
   * `REFRESH_TOKEN_TTL`: lifetime of a refresh token, renewed by each rotation, so also how long
   * an idle session lives (docs/design.md, "Sessions").
   */
  readonly refreshTokenTtlSeconds: Seconds;
  /**
   * `REFRESH_REUSE_GRACE_MS`: how long a refresh token rotated out may be presented again and
   * answered with a fresh pair instead of being taken for theft (two tabs); 0 disables.
   */
  readonly refreshReuseGraceMs: Milliseconds;
  /** `PORT` */
  readonly port: number;
  /** `INSTANCE_ID` */
  readonly instanceId: string;
  /** `REGION`: where the replica runs, published with its status (unset: none). */
  readonly region: string | undefined;
  /** `PRESENCE_HEARTBEAT_MS`: how often the replica publishes its status (docs/design.md, "Fleet presence"). */
  readonly presenceHeartbeatMs: Milliseconds;
  /** `REVOCATION_CACHE_MAX` */
  readonly cacheMaxEntries: number;
  /** `VERIFIED_TOKEN_CACHE_MAX` */
  readonly verifiedTokenCacheMax: number;
  /** `FAIL_MODE` */
  readonly failMode: 'closed' | 'open';
  /** `MAX_STALENESS_MS` */
  readonly maxStalenessMs: Milliseconds;
  /** `CLOCK_SKEW_MS`: how far ahead a token's `iat` may be; every cut-off covers it. */
  readonly clockSkewMs: Milliseconds;
  /** `SYNC_INTERVAL_MS`: period of the anti-entropy catch-up (unset: the module derives it from the bound). */
  readonly syncIntervalMs: Milliseconds | undefined;
  /** `ADMIN_API_KEY` or the file `ADMIN_API_KEY_FILE` names: unset disables admin and introspection routes. */
  readonly adminApiKey: string | undefined;
  /** `REVOCATION_STRATEGY`: `local` (the product) or a benchmark baseline. */
  readonly strategy: RevocationStrategy;
  /** `SHUTDOWN_GRACE_MS`: after SIGTERM, how long a replica keeps serving while it reports not ready. */
  readonly shutdownGraceMs: Milliseconds;
  /** `LOG_LEVEL`: pino level of the API's JSON logs. */
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** `LOG_FORMAT`: JSON lines, readable lines, or the one that suits the output. */
  readonly logFormat: LogFormat;
  /** `PASSWORD_HASH_COST`: Argon2id memory in KiB (t = 2, p = 1). */
  readonly passwordHashCost: number;
  /**
   * `LOGIN_MAX_CONCURRENT_HASHES`: password hashes in flight per replica; beyond a short queue,
   * logins and registrations answer 503 with `Retry-After` (docs/design.md, "Login bulkhead").
   */
  readonly loginMaxConcurrentHashes: number;
  /** `HTTP_ADAPTER`: `fastify` (default) or `express`, for side-by-side benchmarks. */
  readonly httpAdapter: 'fastify' | 'express';
  /** `LOGIN_FAILURE_LIMIT`: failed logins per username and client address per window before 429. */
  readonly loginFailureLimit: number;
  /** `LOGIN_IP_FAILURE_LIMIT`: failed logins per client address per window before 429. */
  readonly loginIpFailureLimit: number;
  /** `LOGIN_FAILURE_WINDOW_MS`: the window, also how long a first block lasts (later ones double). */
  readonly loginFailureWindowMs: Milliseconds;
  /** `REGISTER_IP_LIMIT`: registrations per client address per `LOGIN_FAILURE_WINDOW_MS` before 429. */
  readonly registerIpLimit: number;
  /**
   * `TRUST_PROXY`: which peers may name the client in `X-Forwarded-For`: unset, the socket address
   * is the client; a hop count, or the proxies' addresses and CIDRs.
   */
  readonly trustProxy: TrustProxy | undefined;
  /**
   * `OIDC_ISSUER`, `OIDC_AUDIENCE`, `OIDC_CLIENT_ID`: an OpenID provider whose access tokens are
   * accepted too (docs/design.md, "External issuers"); unset, only our own tokens are.
   */
  readonly oidc: OidcConfig | undefined;
  /**
   * `SSF_ISSUER`, `SSF_AUDIENCE`, `SSF_PUSH_TOKEN`: a Shared Signals transmitter whose CAEP events
   * `POST /ssf/events` receives (docs/design.md, "Security events (CAEP)"); unset, none.
   */
  readonly ssf: SsfConfig | undefined;
}

/** The Shared Signals transmitter of `SSF_*`. */
export interface SsfConfig {
  /** `SSF_ISSUER`: its SETs' `iss`, exactly; metadata at `/.well-known/ssf-configuration`. */
  readonly issuer: string;
  /** `SSF_AUDIENCE`: what its SETs' `aud` must contain. */
  readonly audience: string;
  /** `SSF_PUSH_TOKEN` or the file `SSF_PUSH_TOKEN_FILE` names: its pushes' Bearer credential. */
  readonly pushToken: string | undefined;
}

/** The external OpenID provider of `OIDC_*`. */
export interface OidcConfig {
  /** `OIDC_ISSUER`: its `iss`, exactly; discovery at `<issuer>/.well-known/openid-configuration`. */
  readonly issuer: string;
  /** `OIDC_AUDIENCE`: what its access tokens' `aud` must contain. */
  readonly audience: string;
  /** `OIDC_CLIENT_ID`: our client id at the provider (the audience of its logout tokens). */
  readonly clientId: string | undefined;
  /** `OIDC_TOKEN_ID_CLAIM`: the claim naming each access token uniquely (`jti`; Entra: `uti`). */
  readonly tokenIdClaim: string;
  /**
   * `OIDC_LOGOUT_REVOKES`: what a logout naming a provider session revokes: `session` (its
   * tokens carry that `sid`) or `user` (every earlier token of its `sub`, for providers whose
   * access tokens carry no `sid`).
   */
  readonly logoutRevokes: 'session' | 'user';
}

/** `OIDC_*`: all or nothing, an `https` issuer in production. */
function readOidc(read: EnvReader, production: boolean): OidcConfig | undefined {
  const issuer = read.optional('OIDC_ISSUER');
  const audience = read.optional('OIDC_AUDIENCE');
  const clientId = read.optional('OIDC_CLIENT_ID');
  const tokenIdClaim = read.optional('OIDC_TOKEN_ID_CLAIM');
  const logoutRevokes = read.oneOf('OIDC_LOGOUT_REVOKES', 'session', ['session', 'user'] as const);
  if (issuer === undefined) {
    if (audience !== undefined) read.fail('OIDC_AUDIENCE is set without OIDC_ISSUER');
    if (clientId !== undefined) read.fail('OIDC_CLIENT_ID is set without OIDC_ISSUER');
    if (tokenIdClaim !== undefined) read.fail('OIDC_TOKEN_ID_CLAIM is set without OIDC_ISSUER');
    if (read.optional('OIDC_LOGOUT_REVOKES') !== undefined) {
      read.fail('OIDC_LOGOUT_REVOKES is set without OIDC_ISSUER');
    }
    return undefined;
  }
  let url: URL | undefined;
  try {
    url = new URL(issuer);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    read.fail('OIDC_ISSUER must be an http(s) URL');
  } else if (production && url.protocol === 'http:') {
    read.fail('OIDC_ISSUER must be an https URL when NODE_ENV=production');
  } else if (url.search !== '' || url.hash !== '') {
    read.fail('OIDC_ISSUER must have no query or fragment');
  }
  if (audience === undefined) read.fail('OIDC_AUDIENCE must be set with OIDC_ISSUER');
  if (clientId !== undefined && !/^[\x21-\x7e]{1,256}$/.test(clientId)) {
    read.fail('OIDC_CLIENT_ID must be 1-256 printable characters');
  }
  if (tokenIdClaim !== undefined && !/^[A-Za-z0-9_.:-]{1,64}$/.test(tokenIdClaim)) {
    read.fail('OIDC_TOKEN_ID_CLAIM must be a claim name (1-64 of [A-Za-z0-9_.:-])');
  }
  return {
    issuer,
    audience: audience ?? '',
    clientId,
    tokenIdClaim: tokenIdClaim ?? 'jti',
    logoutRevokes,
  };
}

/** An `http(s)` URL without query or fragment, `https` in production; else the problem. */
function issuerProblem(name: string, value: string, production: boolean): string | undefined {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    return `${name} must be an http(s) URL`;
  }
  if (production && url.protocol === 'http:') {
    return `${name} must be an https URL when NODE_ENV=production`;
  }
  if (url.search !== '' || url.hash !== '') return `${name} must have no query or fragment`;
  return undefined;
}

/**
 * `SSF_*`: all or nothing, an `https` issuer in production, and a push token there as strong as
 * every other secret (it is what lets a caller revoke anyone's sessions).
 */
function readSsf(read: EnvReader, production: boolean): SsfConfig | undefined {
  const issuer = read.optional('SSF_ISSUER');
  const audience = read.optional('SSF_AUDIENCE');
  const pushToken = read.secret('SSF_PUSH_TOKEN');
  if (issuer === undefined) {
    if (audience !== undefined) read.fail('SSF_AUDIENCE is set without SSF_ISSUER');
    if (pushToken !== undefined) read.fail('SSF_PUSH_TOKEN is set without SSF_ISSUER');
    return undefined;
  }
  const problem = issuerProblem('SSF_ISSUER', issuer, production);
  if (problem !== undefined) read.fail(problem);
  if (audience === undefined) read.fail('SSF_AUDIENCE must be set with SSF_ISSUER');
  if (pushToken !== undefined && !/^[\x21-\x7e]{1,1024}$/.test(pushToken)) {
    read.fail('SSF_PUSH_TOKEN must be 1-1024 printable characters');
  } else if (production && pushToken !== undefined) {
    const weakness = secretWeakness(pushToken);
    if (weakness !== undefined) read.fail(`SSF_PUSH_TOKEN ${weakness} when NODE_ENV=production`);
  }
  return { issuer, audience: audience ?? '', pushToken };
}

/**
 * Reads and validates the API's environment once.
 * @throws ConfigError listing every invalid variable
 */
export function loadApiConfig(env: Env): ApiConfig {
  const read = new EnvReader(env);
  const nodeEnv = read.string('NODE_ENV', 'development');
  const production = nodeEnv === 'production';
  const redis = readRedisConfig(read);
  const secrets = readSecrets(read, production);
  const strategy = read.oneOf('REVOCATION_STRATEGY', 'local', ['local', 'redis', 'none'] as const);
  if (production && strategy === 'none') {
    read.fail('REVOCATION_STRATEGY=none is refused when NODE_ENV=production');
  }
  const maxStalenessMs = read.integer(
    'MAX_STALENESS_MS',
    REVOCATION_DEFAULTS.maxStalenessMs,
    100,
    3_600_000,
  );
  const clockSkewMs = read.integer('CLOCK_SKEW_MS', REVOCATION_DEFAULTS.clockSkewMs, 0, 60_000);
  // Unset stays unset: the module derives the period from the bound (one rule, one place).
  const syncIntervalMs = env['SYNC_INTERVAL_MS']
    ? read.integer('SYNC_INTERVAL_MS', 0, 10, 3_600_000)
    : undefined;
  if (syncIntervalMs !== undefined && syncIntervalMs >= maxStalenessMs) {
    read.fail('SYNC_INTERVAL_MS must be below MAX_STALENESS_MS');
  }
  const passwordHashCost = readPasswordHashCost(read, production);
  const config: ApiConfig = {
    ...redis,
    nodeEnv,
    production,
    ...secrets,
    accessTokenTtlSeconds: read.integer(
      'ACCESS_TOKEN_TTL',
      REVOCATION_DEFAULTS.accessTokenTtlSeconds,
      1,
      86_400,
    ),
    // A year at most: a refresh token is a long-lived credential, and the session it keeps
    // alive is sliding (each rotation starts its lifetime again).
    refreshTokenTtlSeconds: read.integer(
      'REFRESH_TOKEN_TTL',
      REVOCATION_DEFAULTS.refreshTokenTtlSeconds,
      60,
      31_536_000,
    ),
    // Five minutes at most: the grace is a window in which a stolen token is not yet theft.
    refreshReuseGraceMs: read.integer(
      'REFRESH_REUSE_GRACE_MS',
      REVOCATION_DEFAULTS.refreshReuseGraceMs,
      0,
      300_000,
    ),
    port: read.integer('PORT', 3000, 0, 65_535),
    instanceId: read.matching(
      'INSTANCE_ID',
      `${hostname()}-${process.pid}`,
      /^[\x21-\x7e]{1,128}$/,
      '1-128 printable characters',
    ),
    region: readRegion(read),
    // Its key lives three heartbeats; a minute at most, so that a dead replica leaves the list.
    presenceHeartbeatMs: read.integer(
      'PRESENCE_HEARTBEAT_MS',
      REVOCATION_DEFAULTS.presenceHeartbeatMs,
      100,
      60_000,
    ),
    cacheMaxEntries: read.integer(
      'REVOCATION_CACHE_MAX',
      REVOCATION_DEFAULTS.cacheMaxEntries,
      1,
      100_000_000,
    ),
    verifiedTokenCacheMax: read.integer(
      'VERIFIED_TOKEN_CACHE_MAX',
      REVOCATION_DEFAULTS.verifiedTokenCacheMax,
      0,
      10_000_000,
    ),
    failMode: read.oneOf('FAIL_MODE', REVOCATION_DEFAULTS.failMode, ['closed', 'open'] as const),
    maxStalenessMs,
    clockSkewMs,
    syncIntervalMs,
    strategy,
    logLevel: read.oneOf('LOG_LEVEL', 'info', [
      'fatal',
      'error',
      'warn',
      'info',
      'debug',
      'trace',
      'silent',
    ] as const),
    logFormat: readLogFormat(read),
    shutdownGraceMs: read.integer('SHUTDOWN_GRACE_MS', 500, 0, 60_000),
    passwordHashCost,
    loginMaxConcurrentHashes: read.integer(
      'LOGIN_MAX_CONCURRENT_HASHES',
      defaultLoginMaxConcurrentHashes(availableParallelism(), env['UV_THREADPOOL_SIZE']),
      1,
      1024,
    ),
    httpAdapter: read.oneOf('HTTP_ADAPTER', 'fastify', ['fastify', 'express'] as const),
    loginFailureLimit: read.integer('LOGIN_FAILURE_LIMIT', 10, 1, 1_000_000),
    loginIpFailureLimit: read.integer('LOGIN_IP_FAILURE_LIMIT', 100, 1, 1_000_000),
    loginFailureWindowMs: read.integer('LOGIN_FAILURE_WINDOW_MS', 900_000, 1000, 86_400_000),
    registerIpLimit: read.integer('REGISTER_IP_LIMIT', 20, 1, 1_000_000),
    trustProxy: readTrustProxy(read),
    oidc: readOidc(read, production),
    ssf: readSsf(read, production),
  };
  if (read.problems.length > 0) throw new ConfigError(read.problems);
  return config;
}

/** The signing keys and the admin key, each from its variable or its `_FILE`. */
type Secrets = Pick<ApiConfig, 'jwtSecret' | 'jwtPreviousSecrets' | 'adminApiKey'>;

/**
 * Reads every secret and, in production, refuses any that is weak or published (see
 * `secretWeakness`): a key accepted only for verification forges tokens as well as the current
 * one, and the admin key revokes anyone, so all of them meet the same bar.
 */
function readSecrets(read: EnvReader, production: boolean): Secrets {
  const before = read.problems.length;
  const jwtSecret = read.secret('JWT_SECRET');
  const previous = read.secret('JWT_PREVIOUS_SECRETS');
  const adminApiKey = read.secret('ADMIN_API_KEY');
  const jwtPreviousSecrets = (previous ?? '')
    .split(/[,\n]/)
    .map((secret) => secret.trim())
    .filter((secret) => secret.length > 0);
  const unreadable = read.problems.length > before;
  if (production && jwtSecret === undefined && !unreadable) {
    read.fail('JWT_SECRET must be set when NODE_ENV=production');
  }
  if (production) {
    const check = (name: string, secret: string | undefined): void => {
      const weakness = secret === undefined ? undefined : secretWeakness(secret);
      if (weakness !== undefined) read.fail(`${name} ${weakness} when NODE_ENV=production`);
    };
    check('JWT_SECRET', jwtSecret);
    jwtPreviousSecrets.forEach((secret, i) =>
      check(`JWT_PREVIOUS_SECRETS (key ${i + 1} of ${jwtPreviousSecrets.length})`, secret),
    );
    check('ADMIN_API_KEY', adminApiKey);
  }
  return { jwtSecret: jwtSecret ?? DEVELOPMENT_JWT_SECRET, jwtPreviousSecrets, adminApiKey };
}

/** `PASSWORD_HASH_COST`, Argon2id memory in KiB: OWASP's minimum or more in production. */
function readPasswordHashCost(read: EnvReader, production: boolean): number {
  // 8 KiB is Argon2's floor (8 × p); below OWASP's figure is for fast test suites only.
  const cost = read.integer('PASSWORD_HASH_COST', PASSWORD_HASH_MIN_PRODUCTION_COST, 8, 1 << 20);
  if (production && cost < PASSWORD_HASH_MIN_PRODUCTION_COST) {
    read.fail(
      `PASSWORD_HASH_COST must be at least ${PASSWORD_HASH_MIN_PRODUCTION_COST} (KiB of Argon2id memory) when NODE_ENV=production, got ${cost}`,
    );
  }
  return cost;
}
