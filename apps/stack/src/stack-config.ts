import { randomBytes } from 'node:crypto';
import { StackError } from './stack.error';

/** The launcher's settings, read once from the environment. */
export interface StackConfig {
  /** One API replica per port, in order. */
  apiPorts: readonly number[];
  /** An external Redis; undefined means start a private `redis-server`. */
  redisUrl: string | undefined;
  /**
   * The replicas' `ADMIN_API_KEY`: the one set, or one made up for this run, so that the admin
   * routes and the operator console work out of the box on a developer's machine.
   */
  adminApiKey: { value: string; generated: boolean };
  /**
   * `LOG_FORMAT` for the children, whose output is a pipe to the stack: `pretty` when the stack
   * writes to a terminal and `LOG_FORMAT` is unset (they inherit a set one).
   */
  childLogFormat: 'pretty' | undefined;
}

/** Where the stack writes, and how it makes up a key. */
export interface StackEnvironment {
  /** Whether the stack's own output is a terminal (`process.stdout.isTTY`). @default false */
  stdoutIsTty?: boolean;
  /** Makes up an admin key. @default 32 random bytes, base64url */
  newAdminKey?: () => string;
}

/** Replicas started when `API_REPLICAS` is unset. */
export const DEFAULT_API_REPLICAS = 3;

/** Ports used when `API_PORTS` is unset. */
export const DEFAULT_API_PORTS: readonly number[] = [3001, 3002, 3003];

/** Validates `API_REPLICAS`, `API_PORTS` and `REDIS_URL`; throws ERR_STACK_CONFIG with a one-line reason. */
export function parseStackConfig(
  env: Readonly<Record<string, string | undefined>>,
  {
    stdoutIsTty = false,
    newAdminKey = () => randomBytes(32).toString('base64url'),
  }: StackEnvironment = {},
): StackConfig {
  const replicasText = nonEmpty(env['API_REPLICAS']);
  const portsText = nonEmpty(env['API_PORTS']);
  const replicas =
    replicasText === undefined
      ? DEFAULT_API_REPLICAS
      : parseInteger('API_REPLICAS', replicasText, 1, Number.MAX_SAFE_INTEGER);
  const ports = portsText === undefined ? DEFAULT_API_PORTS : parsePorts(portsText);
  if (replicas > ports.length) {
    const replicasSource = replicasText === undefined ? ' (the default)' : '';
    throw invalid(
      `API_REPLICAS is ${replicas}${replicasSource} but API_PORTS lists only ${ports.length} port(s) ` +
        `(${ports.join(',')}); list one port per replica`,
    );
  }
  const adminApiKey = nonEmpty(env['ADMIN_API_KEY']);
  return {
    apiPorts: ports.slice(0, replicas),
    redisUrl: parseRedisUrl(nonEmpty(env['REDIS_URL'])),
    adminApiKey:
      adminApiKey !== undefined || nonEmpty(env['ADMIN_API_KEY_FILE']) !== undefined
        ? { value: adminApiKey ?? '', generated: false }
        : { value: newAdminKey(), generated: true },
    childLogFormat: stdoutIsTty && nonEmpty(env['LOG_FORMAT']) === undefined ? 'pretty' : undefined,
  };
}

function parsePorts(text: string): number[] {
  const ports = text.split(',').map((part) => parseInteger('API_PORTS', part.trim(), 1, 65535));
  const duplicate = ports.find((port, index) => ports.indexOf(port) !== index);
  if (duplicate !== undefined) throw invalid(`API_PORTS lists port ${duplicate} twice`);
  return ports;
}

function parseInteger(name: string, text: string, min: number, max: number): number {
  const value = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw invalid(`${name} must hold integers from ${min} to ${max}, got ${JSON.stringify(text)}`);
  }
  return value;
}

function parseRedisUrl(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    // The value may carry a password: do not print it.
    throw invalid('REDIS_URL is not a valid URL (expected redis://[:password@]host:port)');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw invalid(`REDIS_URL must start with redis:// or rediss://, got ${url.protocol}//`);
  }
  return text;
}

// Compose files and shells often set a variable to '' to mean "unset".
function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function invalid(message: string): StackError {
  return new StackError('ERR_STACK_CONFIG', message);
}
