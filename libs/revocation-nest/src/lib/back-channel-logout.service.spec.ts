import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { type CryptoKey, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { RevocationCache, StoreUnavailableError } from '@rescind/revocation-core';
import { deleteKeysWithPrefix, uniqueKeyPrefix, waitFor } from '@rescind/testing';
import { type RunningTestApp, startTestApp, testModuleOptions, waitUntilReady } from '../testing';
import { BackChannelLogoutService } from './back-channel-logout.service';
import { LogoutTokenInvalidError } from './logout-token.verifier';
import { externalIdPrefix } from './revocation-module-options';
import { RevocationService } from './revocation.service';

const CLIENT_ID = 'rescind';
const EVENT = 'http://schemas.openid.net/event/backchannel-logout';

describe('BackChannelLogoutService (against a real Redis)', () => {
  const keyPrefix = uniqueKeyPrefix();
  let server: Server;
  let issuer: string;
  let privateKey: CryptoKey;
  let app: RunningTestApp;
  let service: BackChannelLogoutService;
  let revocations: RevocationService;

  beforeAll(async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    privateKey = pair.privateKey;
    const jwk: JWK = { ...(await exportJWK(pair.publicKey)), kid: 'k', alg: 'ES256' };
    server = createServer((request, response) => {
      response.setHeader('content-type', 'application/json');
      response.end(
        JSON.stringify(
          request.url === '/.well-known/openid-configuration'
            ? { issuer, jwks_uri: `${issuer}/jwks` }
            : { keys: [jwk] },
        ),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    app = await startTestApp(
      'fastify',
      testModuleOptions(keyPrefix, {
        externalIssuers: [{ issuer, audience: 'api', clientId: CLIENT_ID }],
      }),
    );
    service = app.app.get(BackChannelLogoutService);
    revocations = app.app.get(RevocationService);
    await waitUntilReady([app]);
    // Tokens dated now must postdate the new data set's store-wide not-before.
    const cache = app.app.get(RevocationCache);
    await waitFor(() => Date.now() > cache.notBeforeMs, {
      timeoutMs: 5000,
      description: 'the store-wide not-before to pass',
    });
  });

  afterAll(async () => {
    await app?.app.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await deleteKeysWithPrefix(keyPrefix);
  });

  const logoutToken = (sid: string): Promise<string> =>
    new SignJWT({ iss: issuer, aud: CLIENT_ID, jti: randomUUID(), sid, events: { [EVENT]: {} } })
      .setProtectedHeader({ alg: 'ES256', kid: 'k', typ: 'logout+jwt' })
      .setIssuedAt()
      .sign(privateKey);

  it('applies a logout token posted again after its revocation could not be recorded', async () => {
    const sid = `s-${randomUUID()}`;
    const token = await logoutToken(sid);
    const failing = jest
      .spyOn(revocations, 'revokeSession')
      .mockRejectedValueOnce(new StoreUnavailableError(new Error('down')));
    try {
      await expect(service.logout(token)).rejects.toThrow(StoreUnavailableError);
      await expect(service.logout(token)).resolves.toMatchObject({ kind: 'session' });
    } finally {
      failing.mockRestore();
    }
    const inSession = (id: string) => ({
      jti: randomUUID(),
      sub: 'u',
      sid: `${externalIdPrefix(issuer)}${id}`,
      iatMs: Date.now(),
    });
    expect(await revocations.isRevoked(inSession(sid))).toBe(true);
    expect(await revocations.isRevoked(inSession('another'))).toBe(false);
    // Once applied, the same token is a replay.
    await expect(service.logout(token)).rejects.toThrow(LogoutTokenInvalidError);
  });
});
