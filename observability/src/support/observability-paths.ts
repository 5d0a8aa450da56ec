import * as path from 'node:path';
import { repoRoot } from '@rescind/testing';

/** The observability folder and the files the specs check, as absolute paths. */
export const OBSERVABILITY_DIR = path.join(repoRoot(), 'observability');
export const PROMETHEUS_DIR = path.join(OBSERVABILITY_DIR, 'prometheus');
export const PROMETHEUS_CONFIG = path.join(PROMETHEUS_DIR, 'prometheus.yml');
export const RULES_FILE = path.join(PROMETHEUS_DIR, 'rescind.rules.yml');
export const RULES_TEST_FILE = path.join(PROMETHEUS_DIR, 'rescind.rules.test.yml');
export const DASHBOARD_FILE = path.join(OBSERVABILITY_DIR, 'grafana', 'dashboards', 'rescind.json');
export const DATASOURCES_FILE = path.join(
  OBSERVABILITY_DIR,
  'grafana',
  'provisioning',
  'datasources',
  'prometheus.yml',
);
