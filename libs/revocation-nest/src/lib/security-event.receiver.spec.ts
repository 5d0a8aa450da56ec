import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { type CryptoKey, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import {
  type CheckedClaims,
  RevocationCache,
  StoreUnavailableError,
} from '@rescind/revocation-core';
import { deleteKeysWithPrefix, uniqueKeyPrefix, waitFor } from '@rescind/testing';
import { type RunningTestApp, startTestApp, testModuleOptions, waitUntilReady } from '../testing';
import { externalIdPrefix } from './revocation-module-options';
import { RevocationService } from './revocation.service';
import { SecurityEventError } from './security-event.error';
import { SessionService } from './session.service';
import {
  CAEP_CREDENTIAL_CHANGE,
  CAEP_SESSION_REVOKED,
  SecurityEventReceiver,
} from './security-event.receiver';

const AUDIENCE = 'https://rescind.example/ssf';
const PUSH_TOKEN = 'push-token-of-the-unit-tests';
/** An external issuer whose users and sessions the transmitter's `iss_sub` subjects name. */
const PROVIDER = 'https://id.example.com/realms/main';
/** A provider whose access tokens carry no `sid` (`logoutRevokes: 'user'`). */
const SID_LESS = 'https://id.example.com/realms/no-sid';

/** SSF metadata and a JWKS on a loopback port (SSF 1.0 §7.2), and a key that signs SETs. */
class FakeTransmitter {
  private server: Server | undefined;
  private key: { privateKey: CryptoKey; jwk: JWK } | undefined;

  get issuer(): string {
    return `http://127.0.0.1:${(this.server?.address() as AddressInfo).port}/tenant`;
  }

  async start(): Promise<void> {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    this.key = { privateKey, jwk: { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' } };
    this.server = createServer((request, response) => {
      response.setHeader('content-type', 'application/json');
      if (request.url === '/.well-known/ssf-configuration/tenant') {
        response.end(JSON.stringify({ issuer: this.issuer, jwks_uri: `${this.issuer}/jwks` }));
      } else if (request.url === '/tenant/jwks') {
        response.end(JSON.stringify({ keys: [this.key?.jwk] }));
      } else {
        response.statusCode = 404;
        response.end('{}');
      }
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server?.close(() => resolve()));
  }

  /** A SET with one event; `claims` and `header` override the defaults. */
  sign(
    events: Record<string, unknown>,
    claims: Record<string, unknown> = {},
    header: Record<string, unknown> = {},
    key: CryptoKey = this.key?.privateKey as CryptoKey,
  ): Promise<string> {
    return new SignJWT({
      iss: this.issuer,
      aud: AUDIENCE,
      jti: randomUUID(),
      iat: Math.floor(Date.now() / 1000),
      events,
      ...claims,
    })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1', typ: 'secevent+jwt', ...header })
      .sign(key);
  }
}

const issSub = (sub: string, iss = PROVIDER) => ({ format: 'iss_sub', iss, sub });
const opaque = (id: string) => ({ format: 'opaque', id });

describe('SecurityEventReceiver (RFC 8935 push of CAEP events, against a real Redis)', () => {
  const transmitter = new FakeTransmitter();
  const keyPrefix = uniqueKeyPrefix();
  const ns = externalIdPrefix(PROVIDER);
  let app: RunningTestApp;
  let receiver: SecurityEventReceiver;
  let revocations: RevocationService;

  beforeAll(async () => {
    await transmitter.start();
    app = await startTestApp(
      'fastify',
      testModuleOptions(keyPrefix, {
        externalIssuers: [
          { issuer: PROVIDER, audience: 'api' },
          { issuer: SID_LESS, audience: 'api', logoutRevokes: 'user' },
        ],
        securityEventTransmitters: [
          { issuer: transmitter.issuer, audience: AUDIENCE, pushToken: PUSH_TOKEN },
        ],
      }),
    );
    receiver = app.app.get(SecurityEventReceiver);
    revocations = app.app.get(RevocationService);
    await waitUntilReady([app]);
    // Tokens "issued a second ago" must postdate the new data set's store-wide not-before.
    const cache = app.app.get(RevocationCache);
    await waitFor(() => Date.now() - 1000 > cache.notBeforeMs, {
      timeoutMs: 5000,
      description: 'the store-wide not-before to be a second past',
    });
  });

  afterAll(async () => {
    await app?.app.close();
    await transmitter.stop();
    await deleteKeysWithPrefix(keyPrefix);
  });

  const push = (set: string, token = PUSH_TOKEN): Promise<void> =>
    receiver.receive(set, `Bearer ${token}`);

  /** A token of `sub` (in session `sid`) issued a second ago: revoked or not? */
  const revoked = (sub: string, sid?: string): Promise<boolean> => {
    const claims: CheckedClaims = {
      jti: randomUUID(),
      sub,
      iatMs: Date.now() - 1000,
      ...(sid === undefined ? {} : { sid }),
    };
    return revocations.isRevoked(claims);
  };

  async function refusal(promise: Promise<void>): Promise<[string, number]> {
    const error: unknown = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    if (!(error instanceof SecurityEventError)) throw new Error(`not refused: ${String(error)}`);
    return [error.err, error.status];
  }

  it('session-revoked with a complex subject revokes that session only', async () => {
    const set = await transmitter.sign({
      [CAEP_SESSION_REVOKED]: {
        subject: { format: 'complex', user: issSub('u1'), session: issSub('s1') },
      },
    });
    await push(set);
    expect(await revoked(`${ns}u1`, `${ns}s1`)).toBe(true);
    expect(await revoked(`${ns}u1`, `${ns}s2`)).toBe(false);
  });

  it('session-revoked of a provider whose tokens carry no sid cuts the user off', async () => {
    const sidLess = externalIdPrefix(SID_LESS);
    await push(
      await transmitter.sign({
        [CAEP_SESSION_REVOKED]: {
          subject: {
            format: 'complex',
            user: issSub('u7', SID_LESS),
            session: issSub('s7', SID_LESS),
          },
        },
      }),
    );
    expect(await revoked(`${sidLess}u7`)).toBe(true);
  });

  it('session-revoked naming only a user cuts every earlier token of the user off', async () => {
    await push(await transmitter.sign({ [CAEP_SESSION_REVOKED]: {} }, { sub_id: issSub('u2') }));
    expect(await revoked(`${ns}u2`)).toBe(true);
    expect(await revoked(`${ns}u3`)).toBe(false);
  });

  it('credential-change (iss_sub in sub_id, SSF 1.0) cuts every earlier token off', async () => {
    await push(
      await transmitter.sign(
        { [CAEP_CREDENTIAL_CHANGE]: { change_type: 'update' } },
        {
          sub_id: issSub('u4'),
        },
      ),
    );
    expect(await revoked(`${ns}u4`)).toBe(true);
    // A token issued after the cut-off is not caught by it.
    expect(
      await revocations.isRevoked({ jti: randomUUID(), sub: `${ns}u4`, iatMs: Date.now() + 1 }),
    ).toBe(false);
  });

  it('an opaque subject names one of our own users when the transmitter is no issuer of ours', async () => {
    await push(await transmitter.sign({ [CAEP_CREDENTIAL_CHANGE]: { subject: opaque('alice') } }));
    expect(await revoked('alice')).toBe(true);
    expect(await revoked(`${ns}alice`)).toBe(false);
  });

  it('a complex subject without format, with an opaque session, revokes that session', async () => {
    await push(
      await transmitter.sign({
        [CAEP_SESSION_REVOKED]: { subject: { session: opaque('own-session') } },
      }),
    );
    expect(await revoked('bob', 'own-session')).toBe(true);
    expect(await revoked('bob', 'other-session')).toBe(false);
  });

  it('ignores other event types and the subjects of issuers not configured', async () => {
    await push(
      await transmitter.sign({
        'https://schemas.openid.net/secevent/caep/event-type/token-claims-change': {
          subject: opaque('carol'),
        },
      }),
    );
    await push(
      await transmitter.sign({
        [CAEP_CREDENTIAL_CHANGE]: { subject: issSub('carol', 'https://other.example') },
      }),
    );
    expect(await revoked('carol')).toBe(false);
    expect(await revoked(`${externalIdPrefix('https://other.example')}carol`)).toBe(false);
  });

  it('acknowledges a SET pushed again without applying it twice', async () => {
    const set = await transmitter.sign({ [CAEP_CREDENTIAL_CHANGE]: { subject: opaque('dave') } });
    await push(set);
    const afterFirst = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 20));
    await expect(push(set)).resolves.toBeUndefined();
    // A second cut-off would have caught a token issued after the first one.
    expect(
      await revocations.isRevoked({ jti: randomUUID(), sub: 'dave', iatMs: afterFirst + 10 }),
    ).toBe(false);
  });

  it('applies a SET pushed again after its revocation could not be recorded', async () => {
    const sessions = app.app.get(SessionService);
    const failing = jest
      .spyOn(sessions, 'endAll')
      .mockRejectedValueOnce(new StoreUnavailableError(new Error('down')));
    try {
      const set = await transmitter.sign({
        [CAEP_CREDENTIAL_CHANGE]: { subject: opaque('frank') },
      });
      await expect(push(set)).rejects.toThrow(StoreUnavailableError);
      expect(await revoked('frank')).toBe(false);
      await push(set);
      expect(await revoked('frank')).toBe(true);
    } finally {
      failing.mockRestore();
    }
  });

  describe('refuses with its RFC 8935 §2.4 code', () => {
    const event = { [CAEP_CREDENTIAL_CHANGE]: { subject: opaque('erin') } };
    const now = (): number => Math.floor(Date.now() / 1000);

    it.each<[string, () => Promise<void>, string, number]>([
      [
        'no push token',
        async () => receiver.receive(await transmitter.sign(event), undefined),
        'authentication_failed',
        401,
      ],
      [
        'a wrong push token',
        async () => push(await transmitter.sign(event), `${PUSH_TOKEN}x`),
        'authentication_failed',
        401,
      ],
      ['no JWT at all', async () => push('not-a-set'), 'invalid_request', 400],
      [
        'an unknown kid',
        async () => push(await transmitter.sign(event, {}, { kid: 'nope' })),
        'invalid_key',
        400,
      ],
      [
        'a key not of the JWKS',
        async () => {
          const { privateKey } = await generateKeyPair('ES256');
          return push(await transmitter.sign(event, {}, {}, privateKey));
        },
        'invalid_key',
        400,
      ],
      [
        'another issuer',
        async () => push(await transmitter.sign(event, { iss: 'https://evil.example' })),
        'invalid_issuer',
        400,
      ],
      [
        'another audience',
        async () => push(await transmitter.sign(event, { aud: 'someone-else' })),
        'invalid_audience',
        400,
      ],
      [
        'typ at+jwt (an access token)',
        async () => push(await transmitter.sign(event, {}, { typ: 'at+jwt' })),
        'invalid_request',
        400,
      ],
      [
        'no jti',
        async () => push(await transmitter.sign(event, { jti: undefined })),
        'invalid_request',
        400,
      ],
      [
        'no iat',
        async () => push(await transmitter.sign(event, { iat: undefined })),
        'invalid_request',
        400,
      ],
      [
        'an exp passed',
        async () => push(await transmitter.sign(event, { exp: now() - 10 })),
        'invalid_request',
        400,
      ],
      [
        'an iat older than a day',
        async () => push(await transmitter.sign(event, { iat: now() - 2 * 86_400 })),
        'invalid_request',
        400,
      ],
      [
        'no events',
        async () => push(await transmitter.sign({}, { events: undefined, sub: 'x' })),
        'invalid_request',
        400,
      ],
      ['empty events', async () => push(await transmitter.sign({})), 'invalid_request', 400],
      [
        'a subject of an unsupported format',
        async () =>
          push(
            await transmitter.sign({
              [CAEP_CREDENTIAL_CHANGE]: { subject: { format: 'email', email: 'e@example.com' } },
            }),
          ),
        'invalid_request',
        400,
      ],
      [
        'a malformed subject',
        async () =>
          push(
            await transmitter.sign({ [CAEP_SESSION_REVOKED]: { subject: { format: 'opaque' } } }),
          ),
        'invalid_request',
        400,
      ],
      [
        'a credential-change naming only a session',
        async () =>
          push(
            await transmitter.sign({
              [CAEP_CREDENTIAL_CHANGE]: { subject: { session: opaque('s') } },
            }),
          ),
        'invalid_request',
        400,
      ],
      [
        'a claim named twice',
        async () => {
          const set = await transmitter.sign(event);
          const [h, , s] = set.split('.');
          const json = `{"iss":"x","iss":"y","events":{}}`;
          return push(`${h}.${Buffer.from(json).toString('base64url')}.${s}`);
        },
        'invalid_request',
        400,
      ],
    ])('%s', async (_what, send, err, status) => {
      expect(await refusal(send())).toEqual([err, status]);
      expect(await revoked('erin')).toBe(false);
    });
  });
});
