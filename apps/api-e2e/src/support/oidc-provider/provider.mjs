// A real OpenID provider (`oidc-provider`, ESM only) for the end-to-end suite, run as a process of
// its own by `../oidc-provider-process.ts`. Everything it needs comes as JSON in the
// `OIDC_PROVIDER_CONFIG` environment variable:
//
//   port             the loopback port; the issuer is `http://127.0.0.1:<port>`
//   keys             private signing JWKs, the first one signs (it is the current key of a rotation)
//   client           the one client: id, secret, redirect URI, back-channel logout URI
//   resources        resource indicators (RFC 8707) served, each with the scope it grants
//   accessTokenTtl   access token lifetime in seconds (within the API's ACCESS_TOKEN_TTL)
//
// Access tokens for a resource are RFC 9068 JWTs signed with the first key, and carry the `sid`
// that the provider's back-channel logout tokens name (OpenID Connect Back-Channel Logout 1.0 §2.4),
// so that ending the session at the provider can revoke them. Logins and consents go through
// `devInteractions`: any login name is an account. State lives in memory: a restart forgets every
// session and grant, which the key-rotation test does not mind.
import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';
import Provider, { errors } from 'oidc-provider';

const config = JSON.parse(process.env.OIDC_PROVIDER_CONFIG ?? '{}');
const issuer = `http://127.0.0.1:${config.port}`;
const [signingKey] = config.keys;
const alg = signingKey.alg;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: config.client.id,
      client_secret: config.client.secret,
      redirect_uris: [config.client.redirectUri],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      // ID tokens and logout tokens are signed with the same current key.
      id_token_signed_response_alg: alg,
      backchannel_logout_uri: config.client.backchannelLogoutUri,
      backchannel_logout_session_required: true,
    },
  ],
  jwks: { keys: config.keys },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  findAccount: (_ctx, accountId) => ({ accountId, claims: () => ({ sub: accountId }) }),
  pkce: { required: () => true },
  // The provider's outgoing requests refuse special-use addresses, loopback included (SSRF
  // protection, through the `dispatcher` it passes); the back-channel logout URI of this suite is
  // on loopback, so calls to 127.0.0.1 go through a plain `fetch`, every other stays protected.
  fetch: (url, { dispatcher, ...options }) =>
    globalThis.fetch(
      url,
      new URL(url).hostname === '127.0.0.1' ? options : { ...options, dispatcher },
    ),
  ttl: {
    AccessToken: config.accessTokenTtl,
    AuthorizationCode: 60,
    IdToken: 3600,
    Interaction: 600,
    Grant: 3600,
    RefreshToken: 3600,
    Session: 3600,
  },
  // The per-client session id of the authorization (`session.sidFor(clientId)`) travels from the
  // code to its tokens; the JWT format leaves it out unless asked.
  extraTokenClaims: (_ctx, token) =>
    token.kind === 'AccessToken' ? { sid: token.sid } : undefined,
  features: {
    devInteractions: { enabled: true },
    backchannelLogout: { enabled: true },
    rpInitiatedLogout: { enabled: true },
    resourceIndicators: {
      enabled: true,
      // The resource asked for at the token endpoint, else the one granted.
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx, indicator) => {
        const resource = config.resources[indicator];
        if (resource === undefined) throw new errors.InvalidTarget();
        return {
          scope: resource.scope,
          audience: indicator,
          accessTokenTTL: config.accessTokenTtl,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg, kid: signingKey.kid } },
        };
      },
    },
  },
});

// What the suite may want to read when a test fails: the provider's own errors and back-channel calls.
const log = (event) => process.stdout.write(`${JSON.stringify(event)}\n`);
provider.on('server_error', (_ctx, error) => log({ event: 'server_error', error: error.message }));
provider.on('backchannel.success', (_ctx, client, accountId, sid) =>
  log({ event: 'backchannel.success', client: client.clientId, accountId, sid }),
);
provider.on('backchannel.error', (_ctx, error, client, accountId, sid) =>
  log({
    event: 'backchannel.error',
    error: `${error.message} ${error.cause?.message ?? ''}`,
    client: client.clientId,
    accountId,
    sid,
  }),
);

const server = createServer(provider.callback());
server.listen(config.port, '127.0.0.1', () => log({ event: 'listening', issuer }));

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.once(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
