import { performance } from 'node:perf_hooks';
import { externalIdPrefix } from '@rescind/revocation-nest';
import {
  type ApiAnswer,
  ApiClient,
  CREDENTIAL_CHANGE,
  acceptedBeyond,
  LoopbackIssuer,
  newCredentials,
  type Rejection,
  SESSION_REVOKED,
  TestCluster,
  timeUntilRejected,
} from '@rescind/testing';
import { decodeClaims } from './support/jwt-forge';

const AUDIENCE = 'rescind-api';
const SSF_AUDIENCE = 'https://rescind.example/ssf';
const PUSH_TOKEN = 'e2e-ssf-push-token';
const SET_TYPE = 'application/secevent+jwt';

/** Fan-out (README, "Guarantees and their limits"): other ready replicas reject within 100 ms. */
const FAN_OUT_BUDGET_MS = 100;
/** A probe gives up well after the budget, so that a miss reads as a figure, not a timeout. */
const PROBE_TIMEOUT_MS = 2_000;

describe('POST /ssf/events: CAEP events pushed as RFC 8935 SETs', () => {
  const provider = new LoopbackIssuer();
  /** Its issuer has a path, so that its metadata URL is the one SSF 1.0 §7.2 builds. */
  const transmitter = new LoopbackIssuer({ metadata: 'ssf', path: 'ssf', audience: SSF_AUDIENCE });
  let cluster: TestCluster;
  /** a, b on Fastify, c on Express: all receive SETs; d has no transmitter configured. */
  let replicas: [ApiClient, ApiClient, ApiClient, ApiClient];
  /** The namespace of the provider's ids (docs/design.md, "External issuers"). */
  let prefix: string;

  beforeAll(async () => {
    await provider.start();
    await provider.addKey('ec', 'ES256');
    await transmitter.start();
    await transmitter.addKey('set-1', 'RS256');
    prefix = externalIdPrefix(provider.issuer);
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
  /**
   * Pushes `set` to A and returns the requests the other replicas still accepted once the fan-out
   * budget had run out (empty when the promise holds), judged by when each request was sent.
   */
  async function pushAndProbeFanOut(set: string, token: string): Promise<Rejection[]> {
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
    return acceptedBeyond(elsewhere as Rejection[], FAN_OUT_BUDGET_MS);
  }

  it('session-revoked (complex: user and session) ends that provider session on every replica', async () => {
    const token = await provider.sign('ec', { sub: 'alice', sid: 'ps-1' });
    const sibling = await provider.sign('ec', { sub: 'alice', sid: 'ps-1' });
    const otherSession = await provider.sign('ec', { sub: 'alice', sid: 'ps-2' });
    expect(await statuses(token)).toEqual([200, 200, 200, 200]);
    const set = await transmitter.signSet('set-1', {
      [SESSION_REVOKED]: {
        subject: { format: 'complex', user: issSub('alice'), session: issSub('ps-1') },
        event_timestamp: Math.floor(Date.now() / 1000),
      },
    });
    expect(await pushAndProbeFanOut(set, token)).toEqual([]);
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
    const set = await transmitter.signSet(
      'set-1',
      { [CREDENTIAL_CHANGE]: { credential_type: 'password', change_type: 'update' } },
      { sub_id: issSub('bob') },
    );
    expect(await pushAndProbeFanOut(set, earlier)).toEqual([]);
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
    const set = await transmitter.signSet('set-1', {
      [CREDENTIAL_CHANGE]: { subject: { format: 'opaque', id: decodeClaims(token)['sub'] } },
    });
    expect(await pushAndProbeFanOut(set, token)).toEqual([]);
  });

  it('acknowledges a SET pushed again (202) and an event type it does not act on', async () => {
    const set = await transmitter.signSet('set-1', {
      [SESSION_REVOKED]: { subject: { session: issSub('ps-9') } },
    });
    const [a, b, c] = replicas;
    for (const client of [a, b, c, a]) expect((await push(client, set)).status).toBe(202);
    const other = await transmitter.signSet('set-1', {
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
          async () => [await transmitter.signSet('set-1', event), { authorization: '' }],
          400,
          'authentication_failed',
        ],
        [
          'a wrong push token',
          async () => [
            await transmitter.signSet('set-1', event),
            { authorization: `Bearer ${PUSH_TOKEN}-not` },
          ],
          400,
          'authentication_failed',
        ],
        [
          'a key not in the JWKS',
          async () => {
            await transmitter.addKey('unpublished', 'RS256', false);
            return [await transmitter.signSet('unpublished', event, {}, { kid: 'set-1' })];
          },
          400,
          'invalid_key',
        ],
        [
          'an unknown kid',
          async () => [await transmitter.signSet('set-1', event, {}, { kid: 'gone' })],
          400,
          'invalid_key',
        ],
        [
          'another issuer',
          async () => [await transmitter.signSet('set-1', event, { iss: 'https://evil.example' })],
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
          async () => [await transmitter.signSet('set-1', event, { aud: AUDIENCE })],
          400,
          'invalid_audience',
        ],
        [
          'typ at+jwt',
          async () => [await transmitter.signSet('set-1', event, {}, { typ: 'at+jwt' })],
          400,
          'invalid_request',
        ],
        [
          'no jti',
          async () => [await transmitter.signSet('set-1', event, { jti: undefined })],
          400,
          'invalid_request',
        ],
        [
          'an exp passed',
          async () => [await transmitter.signSet('set-1', event, { exp: now() - 5 })],
          400,
          'invalid_request',
        ],
        [
          'no events',
          async () => [await transmitter.signSet('set-1', {}, { events: undefined })],
          400,
          'invalid_request',
        ],
        [
          'a subject of an unsupported format',
          async () => [
            await transmitter.signSet('set-1', {
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
            JSON.stringify({ set: await transmitter.signSet('set-1', event) }),
            { 'content-type': 'application/json' },
          ],
          400,
          'invalid_request',
        ],
        [
          'the SET as text/plain',
          async () => [await transmitter.signSet('set-1', event), { 'content-type': 'text/plain' }],
          400,
          'invalid_request',
        ],
        [
          'the SET as application/jwt',
          async () => [
            await transmitter.signSet('set-1', event),
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
      }
    });

    it('a body over the limit: 413', async () => {
      for (const client of replicas.slice(0, 3)) {
        expect((await push(client, 'a'.repeat(64 * 1024))).status).toBe(413);
      }
    });

    it('a replica with no transmitter configured: 404', async () => {
      const set = await transmitter.signSet('set-1', event);
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
