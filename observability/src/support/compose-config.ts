/** One service of `docker-compose config`'s normalized output, as the specs read it. */
export interface ComposeService {
  name: string;
  /** The service's lines, indented as printed. */
  text: string;
  image?: string;
  profiles: string[];
  /** `environment:` as printed (values unquoted). */
  environment: Record<string, string>;
  /** `volumes:` entries, e.g. `/abs/dir:/etc/prometheus:ro` or `data:/prometheus:rw`. */
  volumes: string[];
  /** `ports:`, from the short syntax (`127.0.0.1:9090:9090/tcp`) or the long one (`published:`). */
  ports: ComposePort[];
}

/** One published port. */
export interface ComposePort {
  /** The host address it is bound to; absent: every address. */
  hostIp?: string;
  published: number;
  target: number;
}

/** The `ports:` of a service's text, in either syntax Compose prints. */
function portsOf(text: string): ComposePort[] {
  const block = /^ {4}ports:\n((?: {4}- .*\n| {6}.*\n)*)/m.exec(text)?.[1] ?? '';
  return block
    .split(/^ {4}- /m)
    .filter((item) => item.trim() !== '')
    .map((item) => {
      const short = /^(?:([\d.]+):)?(\d+):(\d+)/.exec(item);
      if (short !== null) {
        return {
          ...(short[1] === undefined ? {} : { hostIp: short[1] }),
          published: Number(short[2]),
          target: Number(short[3]),
        };
      }
      const field = (name: string): string | undefined =>
        new RegExp(`^\\s*${name}: (\\S+)$`, 'm').exec(item)?.[1];
      const hostIp = field('host_ip');
      return {
        ...(hostIp === undefined ? {} : { hostIp }),
        published: Number(field('published')),
        target: Number(field('target')),
      };
    });
}

/** The list items (`- x`) of the block `key:` within a service's text. */
function listOf(text: string, key: string): string[] {
  const block = new RegExp(`^    ${key}:\\n((?:    - .*\\n)*)`, 'm').exec(text)?.[1] ?? '';
  return [...block.matchAll(/^ {4}- (.*)$/gm)].map(([, item]) => (item ?? '').trim());
}

/**
 * Reads the services of `docker-compose config` (Compose v1's normalized YAML: services sorted,
 * two spaces per level, lists at their key's indentation). No YAML parser: the output's layout is
 * fixed by Compose, and these specs read only the keys above.
 */
export function composeServices(config: string): Map<string, ComposeService> {
  const section = /^services:\n((?: {2}.*\n|\n)*)/m.exec(config)?.[1] ?? '';
  const services = new Map<string, ComposeService>();
  for (const [, name, body] of section.matchAll(/^ {2}(\S+):\n((?: {4}.*\n)*)/gm)) {
    if (name === undefined || body === undefined) continue;
    const environmentBlock = /^ {4}environment:\n((?: {6}.*\n)*)/m.exec(body)?.[1] ?? '';
    const environment = Object.fromEntries(
      [...environmentBlock.matchAll(/^ {6}(\w+): ?(.*)$/gm)].map(([, key, value]) => [
        key as string,
        (value ?? '').replace(/^(["'])(.*)\1$/, '$2'),
      ]),
    );
    services.set(name, {
      name,
      text: body,
      image: /^ {4}image: (\S+)$/m.exec(body)?.[1],
      profiles: listOf(body, 'profiles'),
      environment,
      volumes: listOf(body, 'volumes'),
      ports: portsOf(body),
    });
  }
  return services;
}
