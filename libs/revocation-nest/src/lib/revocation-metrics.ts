import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { type NotBeforeCause, type ResyncCause } from '@rescind/revocation-core';

/** Sources the collected gauges read at scrape time. */
export interface RevocationMetricsSources {
  cacheEntries(): number;
  cacheEvictions(): number;
  inSync(): boolean;
}

/**
 * Rescind's Prometheus metrics (`rescind_*`, README "Operations"), registered on the given
 * registry.
 */
export class RevocationMetrics {
  /** Pre-bound children: the hot path only increments. */
  readonly accepted: Counter.Internal;
  readonly revoked: Counter.Internal;
  readonly invalid: Counter.Internal;
  readonly overflowLookups: Counter<string>;
  readonly propagationSeconds: Histogram<string>;
  readonly malformedEvents: Counter<string>;
  private readonly resyncs: Counter<'cause'>;
  private readonly notBeforeSeconds: Gauge;
  private readonly failSafes: Counter<'cause'>;
  private readonly refreshes: Counter<'outcome'>;

  constructor(registry: Registry, sources: RevocationMetricsSources) {
    const registers = [registry];
    // One shape per kind of metric, so that each definition below is its name, help and labels.
    const counter = <L extends string>(
      name: string,
      help: string,
      labelNames: readonly L[] = [],
    ): Counter<L> => new Counter({ name, help, labelNames, registers });
    // A gauge either set by its owner or, given `read`, sampled at scrape time.
    const gauge = (name: string, help: string, read?: () => number): Gauge =>
      new Gauge({
        name,
        help,
        registers,
        ...(read && {
          collect() {
            this.set(read());
          },
        }),
      });

    const checks = counter('rescind_checks_total', 'Token checks by the guard, by result', [
      'result',
    ]);
    this.accepted = checks.labels('accepted');
    this.revoked = checks.labels('revoked');
    this.invalid = checks.labels('invalid');
    gauge('rescind_cache_entries', 'Revocations held in this replica’s cache', () =>
      sources.cacheEntries(),
    );
    let reportedEvictions = 0;
    new Counter({
      name: 'rescind_cache_evictions_total',
      help: 'Cache entries dropped by the size bound',
      registers,
      collect() {
        const evictions = sources.cacheEvictions();
        this.inc(evictions - reportedEvictions);
        reportedEvictions = evictions;
      },
    });
    this.overflowLookups = counter(
      'rescind_overflow_lookups_total',
      'Checks answered by the store because the cache had evicted entries',
    );
    this.propagationSeconds = new Histogram({
      name: 'rescind_propagation_seconds',
      help: 'From a revocation’s creation to its application on this replica',
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.resyncs = counter(
      'rescind_resyncs_total',
      'Catch-ups and re-hydrations from the store, by cause',
      ['cause'],
    );
    gauge(
      'rescind_in_sync',
      '1 while this replica is hydrated, subscribed, caught up and fresh',
      () => (sources.inSync() ? 1 : 0),
    );
    this.malformedEvents = counter(
      'rescind_malformed_events_total',
      'Messages on the revocation channel, and log entries, that failed validation',
    );
    this.notBeforeSeconds = gauge(
      'rescind_store_not_before_seconds',
      'Store-wide not-before: every token issued at or before it is rejected (Unix time)',
    );
    this.failSafes = counter(
      'rescind_fail_safe_total',
      'Times the store-wide not-before rose after start-up, by cause (store: it lost data)',
      ['cause'],
    );
    this.refreshes = counter(
      'rescind_refresh_total',
      'Refresh tokens presented, by outcome (rotated, reused: the session was revoked, invalid)',
      ['outcome'],
    );
    // Exported from the start, so that a rate over it is defined before the first refresh.
    for (const outcome of ['rotated', 'reused', 'invalid']) this.refreshes.inc({ outcome }, 0);
  }

  /** Counts one refresh token presented (docs/design.md, "Sessions"). */
  refresh(outcome: 'rotated' | 'reused' | 'invalid'): void {
    this.refreshes.inc({ outcome });
  }

  /** Records the store-wide not-before now in force, and counts a rise after start-up. */
  notBefore(cause: NotBeforeCause, notBeforeMs: number): void {
    this.notBeforeSeconds.set(notBeforeMs / 1000);
    if (cause !== 'startup') this.failSafes.inc({ cause });
  }

  /** Counts one catch-up or re-hydration. */
  resync(cause: ResyncCause): void {
    this.resyncs.inc({ cause });
  }
}
