import { createHash, timingSafeEqual } from 'node:crypto';
import {
  Inject,
  Injectable,
  Logger,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { type CryptoKey, errors, jwtVerify, type JWTHeaderParameters } from 'jose';
import { type Clock, isRevocationId, StoreUnavailableError } from '@rescind/revocation-core';
import { RevocationStore } from '@rescind/revocation-redis';
import {
  EXTERNAL_ALGORITHMS,
  type ExternalAlgorithm,
  IssuerKeySet,
  ssfConfigurationUrl,
} from './issuer-key-set';
import { hasDuplicateMember } from './json-member-names';
import { REVOCATION_CLOCK, REVOCATION_OPTIONS } from './revocation.constants';
import {
  type ResolvedRevocationOptions,
  type ResolvedSecurityEventTransmitter,
} from './revocation-module-options';
import { SecurityEventError } from './security-event.error';
import { FOREIGN_SUBJECT, readSubject, type SubjectNamespaces } from './security-event-subject';
import { SessionService } from './session.service';

/** CAEP 1.0 §3.1: a session ended at the transmitter. */
export const CAEP_SESSION_REVOKED =
  'https://schemas.openid.net/secevent/caep/event-type/session-revoked';

/** CAEP 1.0 §3.3: a user's credential changed (every token issued before it goes). */
export const CAEP_CREDENTIAL_CHANGE =
  'https://schemas.openid.net/secevent/caep/event-type/credential-change';

/**
 * How old a SET may be (its `iat`): its `jti` is remembered this long, so that no replay is
 * applied twice; an older one could not be told from a replay and is refused.
 */
export const SET_MAX_AGE_MS = 24 * 3600 * 1000;

/** Longest SET accepted, in characters. */
export const MAX_SET_LENGTH = 16 * 1024;

/** RFC 8417 §2.3 `typ` (the `application/` form is the full media type); absent is accepted. */
const SET_TYPES: ReadonlySet<string> = new Set(['secevent+jwt', 'application/secevent+jwt']);

const BEARER = /^Bearer +([\x21-\x7e]+) *$/i;

interface Transmitter {
  readonly options: ResolvedSecurityEventTransmitter;
  readonly keys: IssuerKeySet;
  /** SHA-256 of the push token, compared in constant time; undefined when none is required. */
  readonly pushTokenDigest: Buffer | undefined;
  readonly namespaces: SubjectNamespaces;
}

/** One revocation an event asks for. */
interface Action {
  readonly kind: 'session' | 'user';
  readonly id: string;
  readonly reason: 'caep-session-revoked' | 'caep-credential-change';
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function invalid(description: string): SecurityEventError {
  return new SecurityEventError('invalid_request', description);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The SET's payload JSON, unverified; undefined when it is not a compact JWS. */
function payloadJson(set: string): string | undefined {
  const parts = set.split('.');
  if (parts.length !== 3 || parts.some((part) => !/^[A-Za-z0-9_-]*$/.test(part))) return undefined;
  return Buffer.from(parts[1] as string, 'base64url').toString();
}

/**
 * Receives the CAEP events Shared Signals transmitters push (RFC 8935, SETs of RFC 8417) and
 * applies those that revoke: `session-revoked` ends a session (or, naming only a user, every
 * token of the user), `credential-change` cuts every token of the user issued before it off.
 * A SET is checked as RFC 8935 §2.3 asks (its push credential, signature by a key of the
 * transmitter's JWKS, `iss`, `aud`, `typ`, `iat`, `jti`, `events`), and its `jti` is claimed
 * once across replicas so that a SET pushed again is acknowledged without being applied twice
 * (docs/design.md, "Security events (CAEP)").
 */
@Injectable()
export class SecurityEventReceiver implements OnModuleInit, OnModuleDestroy {
  private readonly log = new Logger('SecurityEventReceiver');
  private readonly transmitters: readonly Transmitter[];
  private readonly clockSkewMs: number;
  private readonly userOnlyPrefixes: readonly string[];

  constructor(
    @Inject(REVOCATION_OPTIONS) options: ResolvedRevocationOptions,
    @Inject(REVOCATION_CLOCK) private readonly clock: Clock,
    private readonly store: RevocationStore,
    private readonly sessions: SessionService,
  ) {
    this.clockSkewMs = options.clockSkewMs;
    const prefixes = new Map(options.externalIssuers.map((i) => [i.issuer, i.idPrefix]));
    // Namespaces whose issuer's access tokens carry no `sid`: a session there is its user's
    // cut-off (docs/design.md, "External issuers").
    this.userOnlyPrefixes = options.externalIssuers
      .filter((issuer) => issuer.logoutRevokes === 'user')
      .map((issuer) => issuer.idPrefix);
    this.transmitters = options.securityEventTransmitters.map((transmitter) => {
      let lastWarnMs = 0;
      return {
        options: transmitter,
        keys: new IssuerKeySet({
          issuer: transmitter.issuer,
          metadataUrl: ssfConfigurationUrl(transmitter.issuer),
          cooldownMs: transmitter.jwksCooldownMs,
          fetchTimeoutMs: transmitter.fetchTimeoutMs,
          onError: (error) => {
            // One line in ten seconds says a transmitter is down, as for external issuers.
            if (Date.now() - lastWarnMs < 10_000) return;
            lastWarnMs = Date.now();
            const reason = error instanceof Error ? error.message : String(error);
            this.log.warn(
              `fetching the keys of ${transmitter.issuer} failed (keys held are kept): ${reason}`,
            );
          },
        }),
        pushTokenDigest:
          transmitter.pushToken === undefined ? undefined : sha256(transmitter.pushToken),
        namespaces: {
          prefixOf: (iss: string) => prefixes.get(iss),
          opaquePrefix: prefixes.get(transmitter.issuer) ?? '',
        },
      };
    });
  }

  /** Whether any transmitter is configured (none: there is nothing to receive). */
  get configured(): boolean {
    return this.transmitters.length > 0;
  }

  /** Fetches every transmitter's keys before the app listens, then keeps them fresh. */
  async onModuleInit(): Promise<void> {
    await Promise.all(this.transmitters.map((t) => t.keys.refresh()));
    for (const t of this.transmitters) t.keys.startRefreshing(t.options.jwksRefreshMs);
  }

  onModuleDestroy(): void {
    for (const t of this.transmitters) t.keys.stop();
  }

  /**
   * Checks one pushed SET and applies its revocation events; resolves once they are recorded
   * (and applied to this replica's cache), or at once for a SET already received or one that
   * asks nothing of us (other event types, another issuer's subjects).
   * @param set the request body, a compact JWS
   * @param authorization the request's `Authorization` header
   * @throws SecurityEventError with its RFC 8935 §2.4 code
   * @throws StoreUnavailableError when the store cannot take the revocation (try again)
   */
  async receive(set: string, authorization: string | undefined): Promise<void> {
    const allowed = this.authenticate(authorization);
    const transmitter = this.transmitterOf(set, allowed);
    const payload = await this.verify(set, transmitter);
    const actions = this.actionsOf(payload, transmitter);
    if (actions.length === 0) return;
    const jti = payload['jti'] as string;
    const { replayScope } = transmitter.options;
    if (!(await this.claim(replayScope, jti))) return; // a retry (RFC 8935 §4): acknowledged, not applied twice
    try {
      for (const action of actions) {
        const audit = { reason: action.reason, actor: transmitter.options.issuer };
        if (action.kind === 'session') await this.sessions.revoke(action.id, audit);
        else await this.sessions.endAll(action.id, audit);
      }
    } catch (error) {
      // Not recorded: the transmitter's retry must not be taken for a replay.
      await this.store.releaseClaim(replayScope, jti).catch(() => undefined);
      throw error;
    }
  }

  private async claim(scope: string, jti: string): Promise<boolean> {
    try {
      return await this.store.claimOnce(scope, jti, SET_MAX_AGE_MS + this.clockSkewMs);
    } catch (error) {
      throw new StoreUnavailableError(error);
    }
  }

  /**
   * The transmitters the push's credential admits: those that require none, and the one whose
   * push token it is (every token compared in constant time, as digests of equal length).
   */
  private authenticate(authorization: string | undefined): readonly Transmitter[] {
    const presented = authorization === undefined ? undefined : BEARER.exec(authorization)?.[1];
    const digest = presented === undefined ? undefined : sha256(presented);
    const allowed = this.transmitters.filter(
      (t) =>
        t.pushTokenDigest === undefined ||
        (digest !== undefined && timingSafeEqual(digest, t.pushTokenDigest)),
    );
    if (allowed.length === 0) {
      throw new SecurityEventError(
        'authentication_failed',
        'The push must carry the Authorization: Bearer credential agreed with the receiver',
      );
    }
    return allowed;
  }

  /** The transmitter the SET's (unverified) `iss` names, if the push's credential admits it. */
  private transmitterOf(set: string, allowed: readonly Transmitter[]): Transmitter {
    const json = set.length > MAX_SET_LENGTH ? undefined : payloadJson(set);
    let payload: unknown;
    try {
      payload = json === undefined ? undefined : JSON.parse(json);
    } catch {
      payload = undefined;
    }
    if (!isObject(payload)) throw invalid('The body must be a SET: a signed JWT (RFC 8417)');
    // RFC 7519 §4: a claim named twice could be read either way; refused outright.
    if (hasDuplicateMember(json as string)) throw invalid('The SET repeats a claim');
    const iss = payload['iss'];
    const named = this.transmitters.find((t) => t.options.issuer === iss);
    if (named === undefined) {
      throw new SecurityEventError('invalid_issuer', 'The SET is not from a known transmitter');
    }
    if (!allowed.includes(named)) {
      throw new SecurityEventError(
        'authentication_failed',
        "The push's credential is not the SET issuer's",
      );
    }
    return named;
  }

  private async verify(set: string, transmitter: Transmitter): Promise<Record<string, unknown>> {
    let payload: Record<string, unknown>;
    let header: JWTHeaderParameters;
    try {
      ({ payload, protectedHeader: header } = await jwtVerify(
        set,
        (h: JWTHeaderParameters) => this.keyFor(transmitter, h),
        {
          issuer: transmitter.options.issuer,
          audience: transmitter.options.audience,
          algorithms: [...EXTERNAL_ALGORITHMS],
          currentDate: new Date(this.clock.now()),
          clockTolerance: 0,
          requiredClaims: ['iat', 'jti'],
        },
      ));
    } catch (error) {
      throw describe(error);
    }
    // RFC 8417 §2.3: typed, so that no other JWT (an access token, `at+jwt`) passes for a SET.
    if (header.typ !== undefined && !SET_TYPES.has(header.typ.toLowerCase())) {
      throw invalid('The SET must be typed secevent+jwt');
    }
    const { jti, iat, events } = payload;
    if (!isRevocationId(jti)) throw invalid('The SET has no valid jti');
    if (typeof iat !== 'number' || !Number.isFinite(iat)) {
      throw invalid('The SET has no valid iat');
    }
    const now = this.clock.now();
    if (iat * 1000 > now + this.clockSkewMs) throw invalid('The SET was issued in the future');
    if (iat * 1000 < now - SET_MAX_AGE_MS) {
      throw invalid('The SET is older than a day and cannot be told from a replay');
    }
    // RFC 8417 §2.2: `events` is what makes a JWT a SET; an access token has none.
    if (!isObject(events) || Object.keys(events).length === 0) {
      throw invalid('The SET must have events: an object with at least one event');
    }
    if (!Object.values(events).every(isObject)) throw invalid("Each event's value is an object");
    return payload;
  }

  private async keyFor(transmitter: Transmitter, header: JWTHeaderParameters): Promise<CryptoKey> {
    const key = await transmitter.keys.key(header.kid, header.alg as ExternalAlgorithm);
    if (key === undefined) {
      throw new SecurityEventError('invalid_key', 'The SET is signed with an unknown key');
    }
    return key;
  }

  /**
   * The revocations the SET's events ask for: CAEP `session-revoked` and `credential-change`;
   * any other event type is not ours to act on. A subject is the event's `subject` (CAEP
   * drafts) or the SET's `sub_id` (SSF 1.0 §4.1.1).
   */
  private actionsOf(payload: Record<string, unknown>, transmitter: Transmitter): Action[] {
    const events = payload['events'] as Record<string, Record<string, unknown>>;
    const actions: Action[] = [];
    for (const [type, event] of Object.entries(events)) {
      if (type !== CAEP_SESSION_REVOKED && type !== CAEP_CREDENTIAL_CHANGE) continue;
      const subject = readSubject(event['subject'] ?? payload['sub_id'], transmitter.namespaces);
      if (subject === FOREIGN_SUBJECT) {
        this.log.debug(`ignored ${type}: its subject is no issuer's of ours`);
        continue;
      }
      if (type === CAEP_SESSION_REVOKED) {
        const { session, user } = subject;
        const userOnly =
          session !== undefined &&
          user !== undefined &&
          this.userOnlyPrefixes.some((prefix) => session.startsWith(prefix));
        actions.push(
          session === undefined || userOnly
            ? { kind: 'user', id: user as string, reason: 'caep-session-revoked' }
            : { kind: 'session', id: session, reason: 'caep-session-revoked' },
        );
      } else if (subject.user === undefined) {
        throw invalid('A credential-change event must name a user');
      } else {
        actions.push({ kind: 'user', id: subject.user, reason: 'caep-credential-change' });
      }
    }
    return actions;
  }
}

/** A `jose` failure as an RFC 8935 §2.4 error. */
function describe(error: unknown): SecurityEventError {
  if (error instanceof SecurityEventError) return error;
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return new SecurityEventError('invalid_key', 'The SET signature does not verify');
  }
  if (error instanceof errors.JOSEAlgNotAllowed) {
    return invalid('The SET must be signed with RS256, PS256, ES256 or EdDSA');
  }
  if (error instanceof errors.JWTExpired) return invalid('The SET expired');
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'iss') {
      return new SecurityEventError('invalid_issuer', 'The SET has another issuer');
    }
    if (error.claim === 'aud') {
      return new SecurityEventError('invalid_audience', 'The SET is meant for another audience');
    }
    return invalid(`The SET has no valid ${error.claim}`);
  }
  return invalid('The SET is malformed');
}
