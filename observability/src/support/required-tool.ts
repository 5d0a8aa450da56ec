import { findExecutable } from '@rescind/testing';

/**
 * The absolute path of a tool the observability specs run; throws, saying how to install it, when
 * it is not on `PATH`: a missing tool fails the suite, it never skips it.
 */
export function requiredTool(name: string, install: string): string {
  const found = findExecutable(name);
  if (found === undefined) {
    throw new Error(`${name} not found on PATH: install it with \`${install}\``);
  }
  return found;
}

/** Debian's `prometheus` package ships both `prometheus` and `promtool`. */
export const PROMETHEUS_INSTALL = 'apt-get install -y prometheus';

/** Debian's Compose (v1), enough to validate `docker-compose.yml` without a Docker engine. */
export const DOCKER_COMPOSE_INSTALL = 'apt-get install -y docker-compose';
