import { existsSync, readFileSync } from 'node:fs';
import { loadWorkerConfig } from '@rescind/config';
import { repoRoot } from '@rescind/testing';
import { type ComposeService, composeServices } from './support/compose-config';
import { DATASOURCES_FILE, PROMETHEUS_CONFIG } from './support/observability-paths';
import { DOCKER_COMPOSE_INSTALL, requiredTool } from './support/required-tool';
import { expectSuccess, runTool } from './support/run-tool';

const OBSERVABILITY_SERVICES = ['prometheus', 'grafana'];

/** The targets (`host:port`) of each scrape job of prometheus.yml, in order. */
function scrapeTargets(): { host: string; port: number }[][] {
  const config = readFileSync(PROMETHEUS_CONFIG, 'utf8');
  return [...config.matchAll(/- targets: \[([^\]]*)\]/g)].map(([, list]) =>
    [...(list ?? '').matchAll(/'([^':]+):(\d+)'/g)].map(([, host, port]) => ({
      host: host as string,
      port: Number(port),
    })),
  );
}

// Validated with Compose itself (no Docker engine needed): `docker-compose config`.
describe('docker-compose.yml with the observability profile', () => {
  let compose: string;
  let services: Map<string, ComposeService>;
  const env = { JWT_SECRET: 'a placeholder: compose requires one to render the file' };
  const service = (name: string): ComposeService => {
    const found = services.get(name);
    if (found === undefined) throw new Error(`docker-compose.yml has no service ${name}`);
    return found;
  };

  beforeAll(async () => {
    compose = requiredTool('docker-compose', DOCKER_COMPOSE_INSTALL);
    const run = await runTool(compose, ['--profile', 'observability', 'config'], {
      cwd: repoRoot(),
      env,
    });
    expectSuccess(run, 'docker-compose --profile observability config');
    services = composeServices(run.output);
  });

  it('validates with and without the profile', async () => {
    const cwd = repoRoot();
    expectSuccess(await runTool(compose, ['config', '-q'], { cwd, env }), 'docker-compose config');
    expectSuccess(
      await runTool(compose, ['--profile', 'observability', 'config', '-q'], { cwd, env }),
      'docker-compose --profile observability config',
    );
  });

  it('runs Prometheus and Grafana only in the observability profile, from pinned images', () => {
    for (const name of OBSERVABILITY_SERVICES) {
      expect(service(name).profiles).toEqual(['observability']);
      expect(service(name).image).toMatch(/^[\w./-]+:v?\d+\.\d+\.\d+$/);
    }
    for (const name of ['redis', 'api1', 'api2', 'api3', 'worker', 'lb']) {
      expect(service(name).profiles).toEqual([]);
    }
  });

  it('mounts the provisioning read-only from folders that exist', () => {
    for (const name of OBSERVABILITY_SERVICES) {
      const binds = service(name).volumes.filter((volume) => volume.startsWith('/'));
      expect(binds.length).toBeGreaterThan(0);
      for (const bind of binds) {
        const [source, , mode] = bind.split(':');
        expect(mode).toBe('ro');
        expect(existsSync(source as string)).toBe(true);
      }
    }
  });

  it('publishes them on the loopback only, on ports no other service takes', () => {
    const hostPorts = [...services.values()].flatMap((candidate) =>
      candidate.ports.map((port) => port.published),
    );
    expect(hostPorts).toEqual(expect.arrayContaining([3001, 3002, 3003, 8080]));
    expect(new Set(hostPorts).size).toBe(hostPorts.length);
    for (const name of OBSERVABILITY_SERVICES) {
      expect(service(name).ports.length).toBeGreaterThan(0);
      for (const port of service(name).ports) expect(port.hostIp).toBe('127.0.0.1');
    }
  });

  it('has Prometheus scrape every replica on its PORT and the worker on its metrics port', () => {
    const [api, worker] = scrapeTargets();
    expect(api?.map((target) => target.host)).toEqual(['api1', 'api2', 'api3']);
    for (const target of api ?? []) {
      expect(service(target.host).environment.PORT).toBe(String(target.port));
    }
    expect(worker).toEqual([
      {
        host: 'worker',
        port: loadWorkerConfig(service('worker').environment).workerMetricsPort,
      },
    ]);
  });

  it('points Grafana’s datasource at the Prometheus service', () => {
    const url = /^\s+url:\s*(\S+)\s*$/m.exec(readFileSync(DATASOURCES_FILE, 'utf8'))?.[1];
    expect(url).toBe('http://prometheus:9090');
    // Prometheus listens on 9090 in its container (its default: no --web.listen-address).
    expect(service('prometheus').text).not.toContain('--web.listen-address');
    expect(service('prometheus').ports).toContainEqual(expect.objectContaining({ target: 9090 }));
  });
});
