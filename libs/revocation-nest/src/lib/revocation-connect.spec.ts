import { type INestApplication, Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { deleteKeysWithPrefix, uniqueKeyPrefix, waitFor } from '@rescind/testing';
import { TestAppModule, testModuleOptions } from '../testing';
import { RevocationModule } from './revocation.module';
import { RevocationConnectCheck } from './revocation-connect.check';
import { RevocationHealth } from './revocation-health';

describe('RevocationModule.connect(app) forgotten', () => {
  const keyPrefix = uniqueKeyPrefix();
  let app: INestApplication | undefined;
  let warn: jest.SpyInstance;

  beforeEach(() => {
    warn = jest.spyOn(Logger.prototype, 'warn');
  });

  afterEach(async () => {
    await app?.close();
    app = undefined;
    jest.restoreAllMocks();
  });

  afterAll(() => deleteKeysWithPrefix(keyPrefix));

  async function listen(connect: boolean): Promise<INestApplication> {
    const module = RevocationModule.forRoot(testModuleOptions(keyPrefix, { syncIntervalMs: 800 }));
    const created = await NestFactory.create(TestAppModule.with(module), new ExpressAdapter(), {
      logger: ['error'],
      abortOnError: false,
    });
    app = created;
    if (connect) await RevocationModule.connect(created);
    await created.listen(0, '127.0.0.1');
    return created;
  }

  function connectWarnings(): string[] {
    return warn.mock.calls
      .map((call: unknown[]) => String(call[0]))
      .filter((message) => message.includes('RevocationModule.connect(app)'));
  }

  it('logs one warning naming the fix once the app listens without it', async () => {
    const started = await listen(false);
    await waitFor(() => connectWarnings().length > 0, {
      timeoutMs: 5000,
      description: 'the warning about RevocationModule.connect(app)',
    });
    expect(connectWarnings()).toEqual([
      'RevocationModule.connect(app) was not called: revocations reach this instance only by ' +
        'polling, about every 800 ms, and it never reports ready; call it before app.listen()',
    ]);
    expect(started.get(RevocationHealth).readiness()).toMatchObject({
      ready: false,
      subscribed: false,
      reason: 'pub/sub not connected: call RevocationModule.connect(app)',
    });
  });

  it('stays silent, and readiness has no reason, when connect(app) came before listen()', async () => {
    const started = await listen(true);
    await started.get(RevocationConnectCheck).checked;
    expect(connectWarnings()).toEqual([]);
    await waitFor(() => started.get(RevocationHealth).readiness().ready, {
      timeoutMs: 5000,
      description: 'the connected app to become ready',
    });
    expect(started.get(RevocationHealth).readiness()).not.toHaveProperty('reason');
  });
});
