import { readFileSync } from 'node:fs';
import { type DashboardPanel, loadDashboard } from './support/dashboard';
import { DATASOURCES_FILE } from './support/observability-paths';

/** The panels the dashboard promises (observability/README.md). */
const PANELS = [
  'Propagation latency',
  'Checks by result',
  'In sync per replica',
  'Cache entries',
  'Cache evictions',
  'Overflow lookups',
  'Resyncs by cause',
  'Shed logins',
  'Region bridge lag',
  'Region links',
  'Revocations replicated from peer regions',
];

/** The uid of the provisioned Prometheus datasource. */
function provisionedUid(): string {
  const uids = [...readFileSync(DATASOURCES_FILE, 'utf8').matchAll(/^\s+uid:\s*(\S+)\s*$/gm)];
  expect(uids).toHaveLength(1);
  return (uids[0] as RegExpMatchArray)[1] as string;
}

describe('the Grafana dashboard', () => {
  const dashboard = loadDashboard();
  const panel = (title: string): DashboardPanel => {
    const found = dashboard.panels.find((candidate) => candidate.title === title);
    if (found === undefined) throw new Error(`no panel titled ${title}`);
    return found;
  };

  it('has every promised panel, each with a query', () => {
    const titles = dashboard.panels.map((candidate) => candidate.title);
    expect(titles).toEqual(expect.arrayContaining(PANELS));
    expect(new Set(titles).size).toBe(titles.length);
    for (const title of titles) expect(panel(title).targets?.length).toBeGreaterThan(0);
  });

  it('reads the provisioned datasource everywhere, by its uid', () => {
    const uid = provisionedUid();
    const refs = [
      ...dashboard.panels.flatMap((candidate) => [
        candidate.datasource,
        ...(candidate.targets ?? []).map((target) => target.datasource),
      ]),
      ...dashboard.templating.list.map((variable) => variable.datasource),
    ];
    for (const ref of refs) expect(ref).toEqual({ type: 'prometheus', uid });
  });

  it('filters by an instance variable listing the replicas', () => {
    const instance = dashboard.templating.list.find((variable) => variable.name === 'instance');
    expect(instance).toMatchObject({ type: 'query', multi: true, includeAll: true });
    for (const candidate of dashboard.panels) {
      for (const target of candidate.targets ?? []) {
        if (target.expr?.includes('job="rescind-api"')) {
          expect(target.expr).toContain('instance=~"$instance"');
        }
      }
    }
  });

  it('draws the 100 ms budget on the propagation latency, in seconds, with p50, p95 and p99', () => {
    const latency = panel('Propagation latency');
    expect(latency.fieldConfig?.defaults?.unit).toBe('s');
    expect(latency.fieldConfig?.defaults?.custom?.thresholdsStyle?.mode).toBe('line');
    expect(latency.fieldConfig?.defaults?.thresholds?.steps).toContainEqual({
      color: 'red',
      value: 0.1,
    });
    const exprs = (latency.targets ?? []).map((target) => target.expr).join('\n');
    for (const quantile of ['p50', 'p95', 'p99']) expect(exprs).toContain(quantile);
  });
});
