import { loadApiConfig } from '@rescind/config';
import { Registry } from 'prom-client';
import { LoginOverloadedError } from './auth.errors';
import { HASH_QUEUE_PER_SLOT, HASH_RETRY_AFTER_SECONDS, HashBulkhead } from './hash-bulkhead';

async function shedCount(registry: Registry, operation: string): Promise<number | undefined> {
  const metric = await registry.getSingleMetric('rescind_login_shed_total')?.get();
  return metric?.values.find((value) => value.labels['operation'] === operation)?.value;
}

describe('HashBulkhead', () => {
  it('holds LOGIN_MAX_CONCURRENT_HASHES hashes and a short queue, then refuses with Retry-After and counts it', async () => {
    const registry = new Registry();
    const bulkhead = new HashBulkhead(
      loadApiConfig({ LOGIN_MAX_CONCURRENT_HASHES: '2' }),
      registry,
    );
    expect(await shedCount(registry, 'login')).toBe(0);
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const admitted = Array.from({ length: 2 + 2 * HASH_QUEUE_PER_SLOT }, () =>
      bulkhead.run('login', () => held),
    );
    expect(bulkhead.running).toBe(2);

    expect(() => bulkhead.ensureRoom('login')).toThrow(LoginOverloadedError);
    expect(await shedCount(registry, 'login')).toBe(1);
    const refused = bulkhead.run('register', async () => 'never');
    await expect(refused).rejects.toThrow(LoginOverloadedError);
    await expect(refused).rejects.toMatchObject({
      code: 'ERR_LOGIN_OVERLOADED',
      retryAfterSeconds: HASH_RETRY_AFTER_SECONDS,
    });
    await expect(bulkhead.run('rehash', async () => 'never')).rejects.toThrow(LoginOverloadedError);
    expect(await shedCount(registry, 'register')).toBe(1);
    expect(await shedCount(registry, 'rehash')).toBe(1);
    expect(await shedCount(registry, 'login')).toBe(1);

    release();
    await Promise.all(admitted);
    expect(bulkhead.running).toBe(0);
    expect(() => bulkhead.ensureRoom('login')).not.toThrow();
    await expect(bulkhead.run('login', async () => 'again')).resolves.toBe('again');
  });

  it('passes a failing hash’s own error on, uncounted', async () => {
    const registry = new Registry();
    const bulkhead = new HashBulkhead(loadApiConfig({}), registry);
    await expect(
      bulkhead.run('login', () => Promise.reject(new Error('argon2 failed'))),
    ).rejects.toThrow('argon2 failed');
    expect(await shedCount(registry, 'login')).toBe(0);
    expect(bulkhead.running).toBe(0);
  });
});
