import { readFileSync } from 'node:fs';
import {
  deleteKeysWithPrefix,
  freePort,
  TEST_REDIS_URL,
  TestCluster,
  waitFor,
} from '@rescind/testing';
import { concreteQuery, dashboardQueries, loadDashboard } from './support/dashboard';
import { exposedMetricNames, metricNamesIn, SCRAPE_METRICS } from './support/metric-names';
import { PROMETHEUS_CONFIG, RULES_FILE } from './support/observability-paths';
import { PrometheusServer } from './support/prometheus-server';

interface RuleGroups {
  groups: {
    rules: {
      name: string;
      type: 'alerting' | 'recording';
      query: string;
      health: string;
      lastEvaluation: string;
    }[];
  }[];
}
interface Target {
  labels: Record<string, string>;
  health: string;
}
interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}
interface QueryResult {
  result: Sample[];
}

/**
 * observability/prometheus/prometheus.yml with the compose targets replaced by the test's
 * processes (in the order the file lists its jobs) and one-second intervals.
 */
function testConfig(apiPort: number, workerPort: number): string {
  const original = readFileSync(PROMETHEUS_CONFIG, 'utf8');
  const targets = [`['localhost:${apiPort}']`, `['localhost:${workerPort}']`];
  let replaced = 0;
  const config = original
    .replace(/- targets: \[[^\]]*\]/g, () => `- targets: ${targets[replaced++] ?? '[]'}`)
    .replace(/(scrape_interval|evaluation_interval): \S+/g, '$1: 1s');
  expect(replaced).toBe(targets.length);
  return config;
}

// One real replica and the worker (shared Redis, unique KEY_PREFIX) scraped by a real Prometheus
// running the rules: a metric renamed in the code, a wrong job or a broken query fails here.
describe('the rules and the dashboard against a real scrape', () => {
  const cluster = new TestCluster({
    suite: 'observability',
    name: 'scrape',
    replicas: 1,
    redis: 'external',
    env: { REDIS_URL: TEST_REDIS_URL },
  });
  let prometheus: PrometheusServer | undefined;
  let workerPort: number;
  let exposed: Set<string>;

  beforeAll(async () => {
    workerPort = await freePort();
    await cluster.start();
    await cluster.startWorker({ WORKER_METRICS_PORT: String(workerPort) });
    const replica = cluster.replicas[0];
    if (replica === undefined) throw new Error('the cluster started no replica');
    const texts = await Promise.all(
      [`${replica.url}/metrics`, `http://127.0.0.1:${workerPort}/metrics`].map(async (url) => {
        const response = await fetch(url);
        if (!response.ok) throw new Error(`${url}: ${response.status}`);
        return response.text();
      }),
    );
    exposed = new Set(texts.flatMap((text) => [...exposedMetricNames(text)]));
    prometheus = await PrometheusServer.start(testConfig(replica.port, workerPort), [RULES_FILE]);
  });

  afterAll(async () => {
    try {
      await prometheus?.stop();
    } finally {
      try {
        await cluster.stop();
      } finally {
        await deleteKeysWithPrefix(cluster.prefix);
      }
    }
  });

  const server = (): PrometheusServer => {
    if (prometheus === undefined) throw new Error('prometheus did not start');
    return prometheus;
  };

  it('scrapes the replica and the worker, each instance named by its host without the port', async () => {
    const targets = await waitFor(
      async () => {
        const { activeTargets } = await server().api<{ activeTargets: Target[] }>('targets');
        return activeTargets.length === 2 && activeTargets.every((t) => t.health === 'up')
          ? activeTargets
          : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200, description: 'both targets to be up' },
    );
    expect(targets.map((target) => [target.labels.job, target.labels.instance]).sort()).toEqual([
      ['rescind-api', 'localhost'],
      ['rescind-worker', 'localhost'],
    ]);
  });

  it('evaluates every rule without error, and a healthy replica raises no alert', async () => {
    const [inSync] = await waitFor(
      async () => {
        const { result } = await server().api<QueryResult>('query', {
          query: 'rescind_in_sync{job="rescind-api"}',
        });
        return result.length > 0 ? result : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200, description: 'the replica to be scraped' },
    );
    // The target's instance only: the replica's own INSTANCE_ID label is dropped.
    expect(inSync?.metric).toEqual({
      __name__: 'rescind_in_sync',
      instance: 'localhost',
      job: 'rescind-api',
    });
    const scraped = Date.now();
    const rules = await waitFor(
      async () => {
        const { groups } = await server().api<RuleGroups>('rules');
        const all = groups.flatMap((group) => group.rules);
        const evaluated = all.every(
          (rule) => rule.health === 'ok' && Date.parse(rule.lastEvaluation) > scraped,
        );
        return evaluated ? all : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200, description: 'every rule to be evaluated' },
    );
    expect(rules.filter((rule) => rule.type === 'alerting').map((rule) => rule.name)).toEqual([
      'RescindReplicaOutOfSync',
      'RescindSlowPropagation',
      'RescindOverflowLookups',
      'RescindMalformedEvents',
      'RescindRegionLagging',
    ]);
    const { alerts } = await server().api<{ alerts: unknown[] }>('alerts');
    expect(alerts).toEqual([]);
  });

  it('finds every metric the rules and the dashboard read in what the replica and the worker expose', async () => {
    const { groups } = await server().api<RuleGroups>('rules');
    const all = groups.flatMap((group) => group.rules);
    const recorded = new Set(all.filter((r) => r.type === 'recording').map((r) => r.name));
    const queries = [
      ...all.map((rule) => ({ where: `rule ${rule.name}`, expr: rule.query })),
      ...dashboardQueries(loadDashboard()),
    ];
    const missing = queries.flatMap(({ where, expr }) =>
      metricNamesIn(expr)
        .filter((name) => !exposed.has(name) && !recorded.has(name) && !SCRAPE_METRICS.has(name))
        .map((name) => `${where}: ${name}`),
    );
    expect(missing).toEqual([]);
    // The contract's names are all read somewhere.
    const read = new Set(queries.flatMap(({ expr }) => metricNamesIn(expr)));
    for (const name of [
      'rescind_checks_total',
      'rescind_cache_entries',
      'rescind_cache_evictions_total',
      'rescind_overflow_lookups_total',
      'rescind_propagation_seconds_bucket',
      'rescind_resyncs_total',
      'rescind_in_sync',
      'rescind_malformed_events_total',
      'rescind_login_shed_total',
    ]) {
      expect(read).toContain(name);
    }
  });

  it('answers every query of the dashboard, and shows the replica in sync', async () => {
    const failures: string[] = [];
    for (const { where, expr } of dashboardQueries(loadDashboard())) {
      await server()
        .api('query', { query: concreteQuery(expr) })
        .catch((error: Error) => failures.push(`${where}: ${error.message}`));
    }
    expect(failures).toEqual([]);
    const inSync = loadDashboard().panels.find((panel) => panel.title === 'In sync per replica')
      ?.targets?.[0]?.expr;
    const samples = await waitFor(
      async () => {
        const { result } = await server().api<QueryResult>('query', {
          query: concreteQuery(inSync ?? ''),
        });
        return result.length > 0 ? result : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200, description: 'the in-sync panel to show a replica' },
    );
    expect(samples.map((sample) => [sample.metric.instance, sample.value[1]])).toEqual([
      ['localhost', '1'],
    ]);
    const instances = await server().api<string[]>('label/instance/values', {
      'match[]': 'rescind_in_sync{job="rescind-api"}',
    });
    expect(instances).toEqual(['localhost']);
  });
});
