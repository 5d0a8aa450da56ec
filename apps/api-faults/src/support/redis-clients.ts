import * as fs from 'node:fs';
import { type RedisServer } from '@rescind/testing';

/** One line of `CLIENT LIST`, as key/value pairs. */
export type RedisClientInfo = Readonly<Record<string, string>>;

/** `CLIENT LIST [TYPE type]` parsed. */
export async function clientList(
  redis: RedisServer,
  type?: 'pubsub' | 'normal',
): Promise<RedisClientInfo[]> {
  const text = await redis.cli('CLIENT', 'LIST', ...(type === undefined ? [] : ['TYPE', type]));
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) =>
      Object.fromEntries(
        line
          .trim()
          .split(' ')
          .map((pair) => {
            const at = pair.indexOf('=');
            return [pair.slice(0, at), pair.slice(at + 1)];
          }),
      ),
    );
}

/**
 * Local ports of the TCP connections process `pid` holds to `remotePort` on this host, read from
 * `/proc` (Linux): how a test tells which Redis client belongs to which replica.
 */
export function localPortsTo(pid: number, remotePort: number): Set<number> {
  const inodes = new Set<string>();
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match !== null) inodes.add(match[1] as string);
    } catch {
      // closed while we looked
    }
  }
  const ports = new Set<number>();
  for (const table of ['tcp', 'tcp6']) {
    let text: string;
    try {
      text = fs.readFileSync(`/proc/${pid}/net/${table}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const [local, remote, inode] = [fields[1], fields[2], fields[9]];
      if (local === undefined || remote === undefined || inode === undefined) continue;
      if (!inodes.has(inode)) continue;
      if (parseInt(remote.split(':')[1] ?? '', 16) !== remotePort) continue;
      ports.add(parseInt(local.split(':')[1] ?? '', 16));
    }
  }
  return ports;
}

/** The `CLIENT LIST` entries of process `pid`'s connections to `redis` (of one type, if given). */
export async function clientsOf(
  redis: RedisServer,
  pid: number,
  type?: 'pubsub' | 'normal',
): Promise<RedisClientInfo[]> {
  const ports = localPortsTo(pid, redis.port);
  return (await clientList(redis, type)).filter((client) =>
    ports.has(Number((client['addr'] ?? '').split(':').pop())),
  );
}
