import { readFileSync } from 'node:fs';
import { DASHBOARD_FILE } from './observability-paths';

/** A Grafana datasource reference. */
export interface DatasourceRef {
  type?: string;
  uid?: string;
}

/** The parts of a dashboard panel the specs read. */
export interface DashboardPanel {
  title: string;
  type: string;
  datasource?: DatasourceRef;
  targets?: { expr?: string; datasource?: DatasourceRef }[];
  fieldConfig?: {
    defaults?: {
      unit?: string;
      thresholds?: { steps?: { value: number | null; color: string }[] };
      custom?: { thresholdsStyle?: { mode?: string } };
    };
  };
}

/** The parts of the dashboard the specs read. */
export interface Dashboard {
  uid: string;
  title: string;
  panels: DashboardPanel[];
  templating: {
    list: {
      name: string;
      type: string;
      datasource?: DatasourceRef;
      query?: string | { query?: string };
      multi?: boolean;
      includeAll?: boolean;
    }[];
  };
}

/** observability/grafana/dashboards/rescind.json, parsed. */
export function loadDashboard(): Dashboard {
  return JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as Dashboard;
}

/** One PromQL query of the dashboard: a panel's target or the query of a template variable. */
export interface DashboardQuery {
  where: string;
  expr: string;
}

/** Every PromQL query of the dashboard, as written (with Grafana's variables). */
export function dashboardQueries(dashboard: Dashboard): DashboardQuery[] {
  const panels = dashboard.panels.flatMap((panel) =>
    (panel.targets ?? []).map((target) => ({ where: panel.title, expr: target.expr ?? '' })),
  );
  const variables = dashboard.templating.list
    .filter((variable) => variable.type === 'query')
    .map((variable) => ({
      where: `variable ${variable.name}`,
      expr: typeof variable.query === 'string' ? variable.query : (variable.query?.query ?? ''),
    }));
  return [...panels, ...variables];
}

/**
 * A query as Prometheus would receive it from Grafana: the variables replaced by values (every
 * instance, a one-minute rate window), `label_values(selector, label)` by its selector.
 */
export function concreteQuery(expr: string): string {
  const labelValues = /^label_values\((.+),\s*\w+\)$/.exec(expr.trim());
  return (labelValues?.[1] ?? expr)
    .replaceAll('$__rate_interval', '1m')
    .replaceAll('$instance', '.*');
}
