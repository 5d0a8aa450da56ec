import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from '@rescind/testing';
import { RULES_FILE } from './support/observability-paths';
import { PrometheusServer } from './support/prometheus-server';

interface AlertRule {
  name: string;
  type: 'alerting';
  duration: number;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

const README_SECTION = 'Dashboards and alerts';

/** The README's "Dashboards and alerts" section. */
function readmeSection(): string {
  const readme = readFileSync(path.join(repoRoot(), 'README.md'), 'utf8');
  const start = readme.indexOf(`### ${README_SECTION}\n`);
  expect(start).toBeGreaterThanOrEqual(0);
  const end = readme.indexOf('\n## ', start);
  return readme.slice(start, end === -1 ? undefined : end);
}

// The rules as Prometheus itself loads them (no scrape): every alert says how bad it is, what
// happened and where its runbook is, and the runbook exists.
describe('the alert rules', () => {
  let alerts: AlertRule[];

  beforeAll(async () => {
    const prometheus = await PrometheusServer.start(
      `rule_files:\n  - ${path.basename(RULES_FILE)}\n`,
      [RULES_FILE],
    );
    try {
      const { groups } = await prometheus.api<{ groups: { rules: AlertRule[] }[] }>('rules', {
        type: 'alert',
      });
      alerts = groups.flatMap((group) => group.rules);
    } finally {
      await prometheus.stop();
    }
  });

  it('are the five the README describes, each with a runbook there', () => {
    expect(alerts.map((alert) => alert.name).sort()).toEqual([
      'RescindMalformedEvents',
      'RescindOverflowLookups',
      'RescindRegionLagging',
      'RescindReplicaOutOfSync',
      'RescindSlowPropagation',
    ]);
    const section = readmeSection();
    for (const alert of alerts) {
      expect(alert.annotations.runbook).toBe(`README.md, "${README_SECTION}", ${alert.name}`);
      expect(section).toContain(`**${alert.name}**`);
    }
  });

  it('each have a severity, a summary and a description naming the replica', () => {
    for (const alert of alerts) {
      expect(['critical', 'warning']).toContain(alert.labels.severity);
      expect(alert.annotations.summary).toContain('{{ $labels.instance }}');
      expect(alert.annotations.description).toContain('{{ $labels.instance }}');
    }
  });

  it('wait out blips: 30 s out of sync, 5 minutes slow, 15 minutes of overflow lookups, a minute of region lag', () => {
    const durations = Object.fromEntries(alerts.map((alert) => [alert.name, alert.duration]));
    expect(durations).toEqual({
      RescindReplicaOutOfSync: 30,
      RescindSlowPropagation: 300,
      RescindOverflowLookups: 900,
      RescindMalformedEvents: 0,
      RescindRegionLagging: 60,
    });
  });
});
