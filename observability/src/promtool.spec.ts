import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { concreteQuery, dashboardQueries, loadDashboard } from './support/dashboard';
import {
  PROMETHEUS_CONFIG,
  PROMETHEUS_DIR,
  RULES_FILE,
  RULES_TEST_FILE,
} from './support/observability-paths';
import { PROMETHEUS_INSTALL, requiredTool } from './support/required-tool';
import { expectSuccess, runTool } from './support/run-tool';

// promtool is what CI and an operator run; each check fails with promtool's own report.
describe('promtool', () => {
  let promtool: string;

  beforeAll(() => {
    promtool = requiredTool('promtool', PROMETHEUS_INSTALL);
  });

  it('accepts the Prometheus configuration and the rule files it loads', async () => {
    expectSuccess(
      await runTool(promtool, ['check', 'config', PROMETHEUS_CONFIG], { cwd: PROMETHEUS_DIR }),
      'promtool check config',
    );
  });

  it('accepts the rules', async () => {
    expectSuccess(await runTool(promtool, ['check', 'rules', RULES_FILE]), 'promtool check rules');
  });

  it('passes the alerts’ unit tests', async () => {
    const run = await runTool(promtool, ['test', 'rules', RULES_TEST_FILE], {
      cwd: PROMETHEUS_DIR,
    });
    expectSuccess(run, 'promtool test rules');
    expect(run.output).toContain('SUCCESS');
  });

  it('parses every query of the dashboard as PromQL', async () => {
    // promtool parses rule expressions: each query becomes the expression of a recording rule.
    const queries = dashboardQueries(loadDashboard());
    expect(queries.length).toBeGreaterThan(0);
    const rules = queries
      .map(
        (query, index) =>
          `      - record: dashboard_query_${index}\n        expr: ${JSON.stringify(concreteQuery(query.expr))}\n`,
      )
      .join('');
    const dir = mkdtempSync(path.join(tmpdir(), 'rescind-dashboard-rules-'));
    try {
      const file = path.join(dir, 'dashboard.rules.yml');
      writeFileSync(file, `groups:\n  - name: dashboard\n    rules:\n${rules}`);
      expectSuccess(await runTool(promtool, ['check', 'rules', file]), 'promtool check rules');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
