import { randomUUID } from 'node:crypto';
import { RevocationCache, StoreUnavailableError } from '@rescind/revocation-core';
import { deleteKeysWithPrefix, LoopbackIssuer, uniqueKeyPrefix, waitFor } from '@rescind/testing';
import { type RunningTestApp, startTestApp, testModuleOptions, waitUntilReady } from '../testing';
import { BackChannelLogoutService } from './back-channel-logout.service';
import { LogoutTokenInvalidError } from './logout-token.verifier';
import { externalIdPrefix } from './revocation-module-options';
import { RevocationService } from './revocation.service';

const CLIENT_ID = 'rescind';

describe('BackChannelLogoutService (against a real Redis)', () => {
  const keyPrefix = uniqueKeyPrefix();
  const provider = new LoopbackIssuer({ clientId: CLIENT_ID });
  let app: RunningTestApp;
  let service: BackChannelLogoutService;
  let revocations: RevocationService;

  beforeAll(async () => {
    await provider.start();
    await provider.addKey('k', 'ES256');
    app = await startTestApp(
      'fastify',
      testModuleOptions(keyPrefix, {
        externalIssuers: [{ issuer: provider.issuer, audience: 'api', clientId: CLIENT_ID }],
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
    await provider.stop();
    await deleteKeysWithPrefix(keyPrefix);
  });

  const logoutToken = (sid: string): Promise<string> => provider.signLogoutToken('k', { sid });

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
      sid: `${externalIdPrefix(provider.issuer)}${id}`,
      iatMs: Date.now(),
    });
    expect(await revocations.isRevoked(inSession(sid))).toBe(true);
    expect(await revocations.isRevoked(inSession('another'))).toBe(false);
    // Once applied, the same token is a replay.
    await expect(service.logout(token)).rejects.toThrow(LogoutTokenInvalidError);
  });
});
