import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import {
  type ApiClient,
  formatSummary,
  type Rejection,
  summarize,
  TestCluster,
  timeUntilRejected,
  waitFor,
} from '@rescind/testing';
import { decodeProtectedHeader, SignJWT } from 'jose';
import { type BackChannelCall, BackChannelRecorder } from './support/backchannel-recorder';
import { decodeClaims, type JwtPart, signHmac, unsecuredJwt } from './support/jwt-forge';
import { OidcProviderProcess, providerKey } from './support/oidc-provider-process';
import { type OidcClient, OidcUserAgent, type ProviderTokens } from './support/oidc-user-agent';

/** The API's resource indicator at the provider (RFC 8707), the `aud` of its access tokens. */
const AUDIENCE = 'https://api.rescind.test';
/** Another resource server of the same provider. */
const OTHER_RESOURCE = 'https://other.rescind.test';
/** Rescind at the provider; its code redirects are read, never followed. */
const CLIENT: OidcClient = {
  id: 'rescind-e2e',
  secret: 'rescind-e2e-client-secret',
  redirectUri: 'http://127.0.0.1/rescind-e2e/callback',
};
/** Fan-out (README, "Guarantees and their limits"): other ready replicas reject within 100 ms. */
const FAN_OUT_BUDGET_MS = 100;
/** What the suite asserts: a bound that holds on a loaded 2-core machine; the figures are printed. */
const ASSERTED_BOUND_MS = 2_000;
/** Sessions ended at the provider to measure the back-channel fan-out over. */
const ROUNDS = 20;

describe('a real OpenID provider (oidc-provider) in front of three replicas', () => {
  const recorder = new BackChannelRecorder();
  let provider: OidcProviderProcess;
  let cluster: TestCluster;
  let replicas: ApiClient[];
  /** The namespace of the provider's ids (docs/design.md, "External issuers"). */
  let prefix: string;

  beforeAll(async () => {
    await recorder.start();
    provider = await OidcProviderProcess.start({
      client: { ...CLIENT, backchannelLogoutUri: recorder.url },
      resources: { [AUDIENCE]: { scope: 'api' }, [OTHER_RESOURCE]: { scope: 'api' } },
      accessTokenTtl: 300,
    });
    prefix = `~${createHash('sha256').update(provider.issuer).digest('base64url').slice(0, 8)}~`;
    cluster = new TestCluster({
      suite: 'e2e',
      name: 'oidc-provider',
      env: { OIDC_ISSUER: provider.issuer, OIDC_AUDIENCE: AUDIENCE, OIDC_CLIENT_ID: CLIENT.id },
    });
    await cluster.start();
    replicas = cluster.clients;
    recorder.target = (replicas[0] as ApiClient).baseUrl;
  });

  afterAll(async () => {
    await cluster?.stop();
    await provider?.stop();
    await recorder.stop();
  });

  function statuses(token: string): Promise<number[]> {
    return Promise.all(replicas.map((client) => client.meStatus(token)));
  }

  /** A browser of its own signing `login` in, and the access token it got for the API. */
  async function signIn(login: string): Promise<{ agent: OidcUserAgent; tokens: ProviderTokens }> {
    const agent = new OidcUserAgent(provider.issuer, CLIENT);
    return { agent, tokens: await agent.signIn(login, AUDIENCE) };
  }

  /** Ends the agent's session at the provider and returns the back-channel call it made. */
  async function endSession(agent: OidcUserAgent): Promise<BackChannelCall> {
    const before = recorder.calls.length;
    await agent.endSession();
    expect(recorder.calls.length).toBe(before + 1);
    return recorder.last();
  }

  it('issues access tokens through the authorization code flow that every replica accepts', async () => {
    const { agent, tokens } = await signIn('alice');
    const claims = decodeClaims(tokens.access_token);
    expect(decodeProtectedHeader(tokens.access_token)).toMatchObject({
      typ: 'at+jwt',
      kid: provider.signingKey.kid,
    });
    expect(claims).toMatchObject({ iss: provider.issuer, aud: AUDIENCE, sub: 'alice' });
    expect(await statuses(tokens.access_token)).toEqual([200, 200, 200]);

    const me = await (replicas[1] as ApiClient).me(tokens.access_token);
    expect(me.json).toMatchObject({
      sub: `${prefix}alice`,
      jti: `${prefix}${String(claims['jti'])}`,
      sid: `${prefix}${String(claims['sid'])}`,
    });

    // A refresh gives another token of the same provider session.
    const refreshed = await agent.refresh(String(tokens.refresh_token), AUDIENCE);
    expect(decodeClaims(refreshed.access_token)['sid']).toBe(claims['sid']);
    expect(await statuses(refreshed.access_token)).toEqual([200, 200, 200]);
  });

  describe('ending a session at the provider (RP-initiated logout, then its back-channel call)', () => {
    it(`revokes its tokens on every replica, from the back-channel answer within ${FAN_OUT_BUDGET_MS} ms (asserted: ${ASSERTED_BOUND_MS} ms), and nobody else's (${ROUNDS} sessions)`, async () => {
      const bystander = await signIn('bob');
      const afterAnswer: number[] = [];
      const lastReplica: number[] = [];
      let acceptedLate = 0;

      for (let round = 0; round < ROUNDS; round++) {
        const receiver = replicas[round % replicas.length] as ApiClient;
        recorder.target = receiver.baseUrl;
        const user = `user-${round}`;
        const { agent, tokens } = await signIn(user);
        const sibling = await agent.refresh(String(tokens.refresh_token), AUDIENCE);
        const otherSession = await signIn(user);
        for (const token of [tokens, sibling, otherSession.tokens, bystander.tokens]) {
          expect(await statuses(token.access_token)).toEqual([200, 200, 200]);
        }

        const sinceMs = performance.now();
        const probes = Promise.allSettled(
          replicas.map((client) =>
            timeUntilRejected(
              client,
              tokens.access_token,
              sinceMs,
              ASSERTED_BOUND_MS * 2,
              'revoked',
            ),
          ),
        );
        // The probes run until they see the rejection or give up, whatever the logout did.
        const call = await endSession(agent).finally(() => probes);
        expect({ status: call.status, body: call.body }).toMatchObject({ status: 200 });
        expect(call.target).toBe(receiver.baseUrl);

        const offsetMs = call.answeredAtMs - sinceMs;
        const rejections = (await probes).map((result) => {
          if (result.status === 'rejected') throw result.reason;
          return shifted(result.value, offsetMs);
        });
        // Read your revocation: the replica that took the call rejects from its answer on.
        const atReceiver = rejections[replicas.indexOf(receiver)] as Rejection;
        expect(atReceiver.lastAcceptedSentMs ?? -1).toBeLessThan(0);
        for (const rejection of rejections) {
          expect(rejection.elapsedMs).toBeLessThan(ASSERTED_BOUND_MS);
          if ((rejection.lastAcceptedSentMs ?? -1) >= FAN_OUT_BUDGET_MS) acceptedLate++;
          afterAnswer.push(Math.max(0, rejection.elapsedMs));
        }
        lastReplica.push(Math.max(0, ...rejections.map((rejection) => rejection.elapsedMs)));

        // Every token of the session goes, the user's other session and other users stay.
        for (const client of replicas)
          expect(await client.check(sibling.access_token)).toBe('revoked');
        expect(await statuses(otherSession.tokens.access_token)).toEqual([200, 200, 200]);
        expect(await statuses(bystander.tokens.access_token)).toEqual([200, 200, 200]);
      }

      console.log(
        `back-channel answered → replica rejects, ms (client-observed, incl. one HTTP round trip): ` +
          `each replica ${formatSummary(summarize(afterAnswer))}; ` +
          `last of the three ${formatSummary(summarize(lastReplica))}; ` +
          `requests accepted when sent ${FAN_OUT_BUDGET_MS} ms or more after the answer: ${acceptedLate}`,
      );
      // The promise itself: no replica accepts a request sent once the budget has run out.
      expect(acceptedLate).toBe(0);
    });

    it('is answered 200 with no-store, and its logout token replayed to another replica is refused with 400', async () => {
      const [a, b] = replicas as [ApiClient, ApiClient];
      recorder.target = a.baseUrl;
      const { agent } = await signIn('carol');
      const call = await endSession(agent);
      expect(call.status).toBe(200);
      expect(call.cacheControl).toMatch(/no-store/);
      const logoutToken = String(call.logoutToken);
      expect(decodeProtectedHeader(logoutToken)).toMatchObject({ typ: 'logout+jwt' });
      expect(decodeClaims(logoutToken)).toMatchObject({ sub: 'carol', aud: CLIENT.id });

      for (const client of [b, a]) {
        const replay = await client.request('/oidc/backchannel-logout', {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ logout_token: logoutToken }),
        });
        expect({ replica: client.label, status: replay.status, json: replay.json }).toMatchObject({
          status: 400,
          json: { error: 'invalid_request' },
        });
      }
    });
  });

  describe('refuses with 401 and an RFC 6750 challenge', () => {
    /** A genuine access token whose claims the forgeries start from. */
    let genuine: JwtPart;
    const now = (): number => Math.floor(Date.now() / 1000);

    beforeAll(async () => {
      genuine = decodeClaims((await signIn('mallory')).tokens.access_token);
    });

    /** Signs `claims` with the provider's own signing key, as only the provider could. */
    function signedByProvider(claims: JwtPart): Promise<string> {
      const key = provider.signingKey;
      return new SignJWT(claims)
        .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt' })
        .sign(key.privateKey);
    }

    it("(control) but accepts a copy the test signs with the provider's key", async () => {
      const token = await signedByProvider({ ...genuine, jti: `${String(genuine['jti'])}-copy` });
      expect(await statuses(token)).toEqual([200, 200, 200]);
    });

    it.each<[string, () => Promise<string>]>([
      [
        'a token of another provider instance with the same keys (another iss)',
        async () => {
          const other = await OidcProviderProcess.start({
            client: { ...CLIENT, backchannelLogoutUri: recorder.url },
            resources: { [AUDIENCE]: { scope: 'api' } },
            keys: provider.keys,
          });
          try {
            const agent = new OidcUserAgent(other.issuer, CLIENT);
            const token = (await agent.signIn('alice', AUDIENCE)).access_token;
            // Only the issuer differs: the signature is by a key every replica holds.
            expect(decodeProtectedHeader(token).kid).toBe(provider.signingKey.kid);
            return token;
          } finally {
            await other.stop();
          }
        },
      ],
      [
        'a token of this provider for another resource (another aud)',
        async () => {
          const agent = new OidcUserAgent(provider.issuer, CLIENT);
          const code = await agent.authorize('alice', [AUDIENCE, OTHER_RESOURCE], 'api');
          const token = (await agent.exchange(code, OTHER_RESOURCE)).access_token;
          expect(decodeClaims(token)['aud']).toBe(OTHER_RESOURCE);
          return token;
        },
      ],
      ['an unsecured one (alg: none)', async () => unsecuredJwt(genuine)],
      ...hmacForgeries(),
      [
        'an expired one, signed with its key',
        () => signedByProvider({ ...genuine, iat: now() - 600, exp: now() - 300 }),
      ],
    ])('%s', async (_what, forge) => {
      const token = await forge();
      for (const client of replicas) {
        const answer = await client.me(token);
        expect({ replica: client.label, status: answer.status }).toEqual({
          replica: client.label,
          status: 401,
        });
        expect(answer.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
        expect(answer.json).toMatchObject({ error: expect.any(String) });
      }
    });

    /** HS256 "signed" with the provider's public key, as an algorithm-confusion attack would. */
    function hmacForgeries(): [string, () => Promise<string>][] {
      const forge = (secret: () => string) => async () =>
        signHmac(genuine, secret(), 'HS256', { kid: provider.signingKey.kid, typ: 'at+jwt' });
      return [
        [
          'HS256 with its public key (PEM) as the secret',
          forge(() => provider.signingKey.publicPem),
        ],
        [
          'HS256 with its public key (JWK) as the secret',
          forge(() => JSON.stringify(provider.signingKey.publicJwk)),
        ],
        [
          'HS256 with its public key thumbprint (RFC 7638, its kid) as the secret',
          forge(() => provider.signingKey.kid),
        ],
      ];
    }
  });

  it('takes a rotated key without a restart of the replicas, and the logouts it signs', async () => {
    const oldKey = provider.signingKey;
    const before = (await signIn('erin')).tokens.access_token;
    const pids = cluster.replicas.map((replica) => replica.pid);

    // The new key signs, the old one is still published (RFC 7517 §5: a set of keys).
    const newKey = await providerKey('RS256');
    await provider.restart([newKey, oldKey]);
    const { agent, tokens } = await signIn('erin');
    expect(decodeProtectedHeader(tokens.access_token)).toMatchObject({
      alg: 'RS256',
      kid: newKey.kid,
    });
    expect(await statuses(tokens.access_token)).toEqual([200, 200, 200]);
    expect(await statuses(before)).toEqual([200, 200, 200]);
    expect(cluster.replicas.map((replica) => replica.pid)).toEqual(pids);

    // Its logout tokens are signed with the new key too.
    recorder.target = (replicas[2] as ApiClient).baseUrl;
    const call = await endSession(agent);
    expect(decodeProtectedHeader(String(call.logoutToken))).toMatchObject({ kid: newKey.kid });
    expect(call.status).toBe(200);
    for (const client of replicas) {
      await waitFor(async () => (await client.check(tokens.access_token)) === 'revoked', {
        timeoutMs: ASSERTED_BOUND_MS,
        description: `${client.label} rejects the token of the session ended after the rotation`,
      });
    }
    expect(await statuses(before)).toEqual([200, 200, 200]);
  });
});

/** A rejection timed from the back-channel answer (`offsetMs` after the probe began) instead. */
function shifted(rejection: Rejection, offsetMs: number): Rejection {
  return {
    ...rejection,
    elapsedMs: rejection.elapsedMs - offsetMs,
    lastAcceptedSentMs:
      rejection.lastAcceptedSentMs === undefined
        ? undefined
        : rejection.lastAcceptedSentMs - offsetMs,
  };
}
