import { confirmsRevocation, type ReplicaStatus } from './replica-status';

const REPORTED_AT = Date.parse('2026-01-01T00:00:10.000Z');

function status(overrides: Partial<ReplicaStatus> = {}): ReplicaStatus {
  return {
    instance: 'api1',
    log_position: { epoch: 'e1', seq: 12 },
    ready: true,
    in_sync: true,
    staleness_ms: 1_000,
    cache_entries: 42,
    reported_at: new Date(REPORTED_AT).toISOString(),
    started_at: '2026-01-01T00:00:00.000Z',
    ...overrides,
  };
}

describe('confirmsRevocation', () => {
  const at12 = { position: { epoch: 'e1', seq: 12 }, createdAtMs: 0 };

  it('confirms once a ready replica in sync has applied the log up to the revocation', () => {
    expect(confirmsRevocation(status(), at12)).toBe(true);
    expect(confirmsRevocation(status({ log_position: { epoch: 'e1', seq: 40 } }), at12)).toBe(true);
  });

  it('does not confirm before the replica has applied it', () => {
    expect(confirmsRevocation(status({ log_position: { epoch: 'e1', seq: 11 } }), at12)).toBe(
      false,
    );
  });

  it('does not confirm on another data set, nor before the first hydration', () => {
    expect(confirmsRevocation(status({ log_position: { epoch: 'e2', seq: 99 } }), at12)).toBe(
      false,
    );
    expect(confirmsRevocation(status({ log_position: null }), at12)).toBe(false);
  });

  it('does not confirm for a replica that is not ready or not in sync', () => {
    expect(confirmsRevocation(status({ ready: false }), at12)).toBe(false);
    expect(confirmsRevocation(status({ in_sync: false }), at12)).toBe(false);
  });

  describe('for a record written before the store kept positions', () => {
    it('confirms once the replica last confirmed it was in sync after the revocation was made', () => {
      // Confirmed in sync since REPORTED_AT - 1,000 ms.
      expect(confirmsRevocation(status(), { createdAtMs: REPORTED_AT - 1_001 })).toBe(true);
      expect(confirmsRevocation(status(), { createdAtMs: REPORTED_AT - 1_000 })).toBe(false);
      expect(confirmsRevocation(status({ ready: false }), { createdAtMs: 0 })).toBe(false);
    });
  });
});
