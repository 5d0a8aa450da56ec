import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { generateKeyPair } from 'jose';
import {
  type ApiAnswer,
  ApiClient,
  elapsed,
  newCredentials,
  type Rejection,
  TestCluster,
  timeUntilRejected,
} from '@rescind/testing';
import { decodeClaims } from './support/jwt-forge';
import { TestIssuer } from './support/test-issuer';
import { CREDENTIAL_CHANGE, SESSION_REVOKED, TestTransmitter } from './support/test-transmitter';

const AUDIENCE = 'rescind-api';
const SSF_AUDIENCE = 'https://rescind.example/ssf';
const PUSH_TOKEN = 'e2e-ssf-push-token';
const SET_TYPE = 'application/secevent+jwt';

/** Fan-out (README, "Guarantees and their limits"): other ready replicas reject within 100 ms. */
const FAN_OUT_BUDGET_MS = 100;
/** A probe gives up well after the budget, so that a miss reads as a figure, not a timeout. */
const PROBE_TIMEOUT_MS = 2_000;

describe('POST /ssf/events: CAEP events pushed as RFC 8935 SETs', () => {
  const provider = new TestIssuer();
  const transmitter = new TestTransmitter();
  let cluster: TestCluster;
  /** a, b on Fastify, c on Express: all receive SETs; d has no transmitter configured. */
  let replicas: [ApiClient, ApiClient, ApiClient, ApiClient];
  /** The namespace of the provider's ids (docs/design.md, "External issuers"). */
  let prefix: string;

  beforeAll(async () => {
    await provider.start();
    await provider.addKey('ec', 'ES256');
    await transmitter.start();
    prefix = `~${createHash('sha256').update(provider.issuer).digest('base64url').slice(0, 8)}~`;
    const ssf = {
      SSF_ISSUER: transmitter.issuer,
      SSF_AUDIENCE,
      SSF_PUSH_TOKEN: PUSH_TOKEN,
    };
    cluster = new TestCluster({
      suite: 'e2e',
      name: 'ssf-events',
      env: { OIDC_ISSUER: provider.issuer, OIDC_AUDIENCE: AUDIENCE },
      replicas: [{ env: ssf }, { env: ssf }, { env: { ...ssf, HTTP_ADAPTER: 'express' } }, {}],
    });
    await cluster.start();
    replicas = cluster.urls.map((url) => new ApiClient(url)) as typeof replicas;
  });

  afterAll(async () => {
    await cluster?.stop();
    await transmitter.stop();
    await provider.stop();
  });

  function push(
    client: ApiClient,
    body: string,
    headers: Record<string, string> = {},
  ): Promise<ApiAnswer<Record<string, unknown>>> {
    return client.request('/ssf/events', {
      method: 'POST',
      headers: { 'content-type': SET_TYPE, authorization: `Bearer ${PUSH_TOKEN}`, ...headers },
      body,
    });
  }

  function statuses(token: string): Promise<number[]> {
    return Promise.all(replicas.map((client) => client.meStatus(token)));
  }

  const issSub = (sub: string) => ({ format: 'iss_sub', iss: provider.issuer, sub });

  /**
   * Pushes `set` to replica a, expects 202 with an empty body, and returns when the other replicas
   * rejected `token` (ms after the 202): a rejects it at once (read your revocation).
   */
  async function pushAndTimeFanOut(set: string, token: string): Promise<number> {
    const [a, ...others] = replicas;
    const answer = await push(a, set);
    const returnedAt = performance.now();
    expect([answer.status, answer.text]).toEqual([202, '']);
    const [onA, ...elsewhere] = await Promise.all([
      a.check(token),
      ...others.map((client) =>
        timeUntilRejected(client, token, returnedAt, PROBE_TIMEOUT_MS, 'revoked'),
      ),
    ]);
    expect(onA).toBe('revoked');
    return Math.max(...elapsed(elsewhere as Rejection[]));
  }

  it('session-revoked (complex: user and session) ends that provider session on every replica', async () => {
    const token = await provider.sign('ec', { sub: 'alice', sid: 'ps-1' });
    const sibling = await provider.sign('ec', { sub: 'alice', sid: 'ps-1' });
    const otherSession = await provider.sign('ec', { sub: 'alice', sid: 'ps-2' });
    expect(await statuses(token)).toEqual([200, 200, 200, 200]);
    const set = await transmitter.sign(SSF_AUDIENCE, {
      [SESSION_REVOKED]: {
        subject: { format: 'complex', user: issSub('alice'), session: issSub('ps-1') },
        event_timestamp: Math.floor(Date.now() / 1000),
      },
    });
    expect(await pushAndTimeFanOut(set, token)).toBeLessThan(FAN_OUT_BUDGET_MS);
    expect(await Promise.all(replicas.map((client) => client.check(sibling)))).toEqual([
      'revoked',
      'revoked',
      'revoked',
      'revoked',
    ]);
    expect(await statuses(otherSession)).toEqual([200, 200, 200, 200]);
  });

  it('credential-change (iss_sub in sub_id) cuts earlier tokens off; a later one is accepted', async () => {
    const earlier = await provider.sign('ec', { sub: 'bob', sid: 'ps-3' });
    const otherUser = await provider.sign('ec', { sub: 'carol' });
    expect(await statuses(earlier)).toEqual([200, 200, 200, 200]);
    const set = await transmitter.sign(
      SSF_AUDIENCE,
      { [CREDENTIAL_CHANGE]: { credential_type: 'password', change_type: 'update' } },
      { sub_id: issSub('bob') },
    );
    expect(await pushAndTimeFanOut(set, earlier)).toBeLessThan(FAN_OUT_BUDGET_MS);
    // Issued once the 202 came (to the millisecond, as the cut-off is): after the cut-off.
    const later = await provider.sign('ec', { sub: 'bob', iat: Date.now() / 1000 });
    expect(await statuses(later)).toEqual([200, 200, 200, 200]);
    expect(await statuses(otherUser)).toEqual([200, 200, 200, 200]);
    expect(decodeClaims(later)['sub']).toBe('bob');
    expect((await replicas[0].me(later)).json?.['sub']).toBe(`${prefix}bob`);
  });

  it('an opaque subject names one of our own users (the transmitter is no OpenID issuer of ours)', async () => {
    const [a] = replicas;
    const credentials = newCredentials('ssf-opaque');
    await a.register(credentials);
    const token = await a.login(credentials);
    expect(await statuses(token)).toEqual([200, 200, 200, 200]);
    const set = await transmitter.sign(SSF_AUDIENCE, {
      [CREDENTIAL_CHANGE]: { subject: { format: 'opaque', id: decodeClaims(token)['sub'] } },
    });
    expect(await pushAndTimeFanOut(set, token)).toBeLessThan(FAN_OUT_BUDGET_MS);
  });

  it('acknowledges a SET pushed again (202) and an event type it does not act on', async () => {
    const set = await transmitter.sign(SSF_AUDIENCE, {
      [SESSION_REVOKED]: { subject: { session: issSub('ps-9') } },
    });
    const [a, b, c] = replicas;
    for (const client of [a, b, c, a]) expect((await push(client, set)).status).toBe(202);
    const other = await transmitter.sign(SSF_AUDIENCE, {
      'https://schemas.openid.net/secevent/caep/event-type/device-compliance-change': {
        subject: issSub('alice'),
        current_status: 'not-compliant',
        previous_status: 'compliant',
      },
    });
    expect((await push(c, other)).status).toBe(202);
  });

  describe('refuses, never with a 5xx, on Fastify and Express', () => {
    const event = { [CREDENTIAL_CHANGE]: { subject: { format: 'opaque', id: 'nobody' } } };
    const now = (): number => Math.floor(Date.now() / 1000);
    const cases: Array<[string, () => Promise<[string, Record<string, string>?]>, number, string]> =
      [
        [
          'no push token',
          async () => [await transmitter.sign(SSF_AUDIENCE, event), { authorization: '' }],
          401,
          'authentication_failed',
        ],
        [
          'a wrong push token',
          async () => [
            await transmitter.sign(SSF_AUDIENCE, event),
            { authorization: `Bearer ${PUSH_TOKEN}-not` },
          ],
          401,
          'authentication_failed',
        ],
        [
          'a key not in the JWKS',
          async () => {
            const { privateKey } = await generateKeyPair('RS256');
            return [await transmitter.sign(SSF_AUDIENCE, event, {}, {}, privateKey)];
          },
          400,
          'invalid_key',
        ],
        [
          'an unknown kid',
          async () => [await transmitter.sign(SSF_AUDIENCE, event, {}, { kid: 'gone' })],
          400,
          'invalid_key',
        ],
        [
          'another issuer',
          async () => [
            await transmitter.sign(SSF_AUDIENCE, event, { iss: 'https://evil.example' }),
          ],
          400,
          'invalid_issuer',
        ],
        [
          'an access token of the provider posted as a SET',
          async () => [await provider.sign('ec')],
          400,
          'invalid_issuer',
        ],
        [
          'another audience',
          async () => [await transmitter.sign(AUDIENCE, event)],
          400,
          'invalid_audience',
        ],
        [
          'typ at+jwt',
          async () => [await transmitter.sign(SSF_AUDIENCE, event, {}, { typ: 'at+jwt' })],
          400,
          'invalid_request',
        ],
        [
          'no jti',
          async () => [await transmitter.sign(SSF_AUDIENCE, event, { jti: undefined })],
          400,
          'invalid_request',
        ],
        [
          'an exp passed',
          async () => [await transmitter.sign(SSF_AUDIENCE, event, { exp: now() - 5 })],
          400,
          'invalid_request',
        ],
        [
          'no events',
          async () => [await transmitter.sign(SSF_AUDIENCE, {}, { events: undefined })],
          400,
          'invalid_request',
        ],
        [
          'a subject of an unsupported format',
          async () => [
            await transmitter.sign(SSF_AUDIENCE, {
              [SESSION_REVOKED]: { subject: { format: 'email', email: 'a@example.com' } },
            }),
          ],
          400,
          'invalid_request',
        ],
        ['not a JWT', async () => ['not.a-set'], 400, 'invalid_request'],
        ['an empty body', async () => [''], 400, 'invalid_request'],
        [
          'the SET as application/json',
          async () => [
            JSON.stringify({ set: await transmitter.sign(SSF_AUDIENCE, event) }),
            { 'content-type': 'application/json' },
          ],
          400,
          'invalid_request',
        ],
        [
          'the SET as text/plain',
          async () => [
            await transmitter.sign(SSF_AUDIENCE, event),
            { 'content-type': 'text/plain' },
          ],
          400,
          'invalid_request',
        ],
        [
          'the SET as application/jwt',
          async () => [
            await transmitter.sign(SSF_AUDIENCE, event),
            { 'content-type': 'application/jwt' },
          ],
          400,
          'invalid_request',
        ],
      ];

    it.each(cases)('%s', async (_what, make, status, err) => {
      const [body, headers] = await make();
      for (const client of replicas.slice(0, 3)) {
        const answer = await push(client, body, headers);
        expect([client.baseUrl, answer.status, answer.json]).toEqual([
          client.baseUrl,
          status,
          { err, description: expect.any(String) },
        ]);
        expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
        if (status === 401) expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer/);
      }
    });

    it('a body over the limit: 413', async () => {
      for (const client of replicas.slice(0, 3)) {
        expect((await push(client, 'a'.repeat(64 * 1024))).status).toBe(413);
      }
    });

    it('a replica with no transmitter configured: 404', async () => {
      const set = await transmitter.sign(SSF_AUDIENCE, event);
      const answer = await push(replicas[3], set);
      expect(answer.status).toBe(404);
      expect(answer.json).toMatchObject({ statusCode: 404 });
    });

    it('other routes still refuse the SET media type and unknown ones on Fastify (415)', async () => {
      for (const client of replicas.slice(0, 2)) {
        for (const type of [SET_TYPE, 'application/xml']) {
          const answer = await client.request('/auth/register', {
            method: 'POST',
            headers: { 'content-type': type },
            body: 'x',
          });
          expect(answer.status).toBe(415);
        }
      }
    });
  });
});
