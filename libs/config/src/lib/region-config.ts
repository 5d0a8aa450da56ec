import { type EnvReader } from './env-reader';

/** What a region's name may be: the same rule as `REGION`. */
const REGION_NAME = /^[A-Za-z0-9_.:-]{1,64}$/;

/** One peer region of `PEER_REGIONS`: its name and the URL of its own Redis. */
export interface PeerRegion {
  /** The peer's `REGION`, which its revocations carry as their origin. */
  readonly name: string;
  /** `redis://` or `rediss://` URL of the peer's Redis (its source of truth and log). */
  readonly redisUrl: string;
}

/** `REGION`: this region's (and replica's) name; unset or empty: none. */
export function readRegion(read: EnvReader): string | undefined {
  const region = read.optional('REGION');
  if (region === undefined) return undefined;
  return read.matching('REGION', region, REGION_NAME, '1-64 of [A-Za-z0-9_.:-]');
}

/**
 * `PEER_REGIONS`: `name=redis://…` of every peer region, comma-separated (docs/design.md,
 * "Several regions"). Every problem is reported: an entry without `=`, a bad name or URL, a name
 * given twice or equal to `REGION`, and peers without a `REGION` of our own (the bridge marks
 * what it applies with the peer's name and needs ours to tell echoes apart).
 * @returns the peers in the order given; empty when unset
 */
export function readPeerRegions(read: EnvReader, region: string | undefined): PeerRegion[] {
  const list = read.optional('PEER_REGIONS');
  if (list === undefined) return [];
  if (region === undefined) read.fail('PEER_REGIONS needs REGION, the name of this region');
  const peers: PeerRegion[] = [];
  const seen = new Set<string>();
  for (const raw of list.split(',')) {
    const entry = raw.trim();
    const equals = entry.indexOf('=');
    if (equals < 0) {
      read.fail(`PEER_REGIONS: "${entry}" must be name=redis://host:port`);
      continue;
    }
    const name = entry.slice(0, equals).trim();
    const redisUrl = entry.slice(equals + 1).trim();
    let ok = true;
    if (!REGION_NAME.test(name)) {
      read.fail(`PEER_REGIONS: region name "${name}" must be 1-64 of [A-Za-z0-9_.:-]`);
      ok = false;
    } else if (seen.has(name)) {
      read.fail(`PEER_REGIONS: region "${name}" is given twice`);
      ok = false;
    } else if (name === region) {
      read.fail(`PEER_REGIONS: "${name}" is this region (REGION); a region is not its own peer`);
      ok = false;
    }
    seen.add(name);
    if (!isRedisUrl(redisUrl)) {
      read.fail(`PEER_REGIONS: the URL of "${name}" must be redis://host:port or rediss://…`);
      ok = false;
    }
    if (ok) peers.push({ name, redisUrl });
  }
  return peers;
}

function isRedisUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'redis:' || url.protocol === 'rediss:') && url.hostname !== '';
  } catch {
    return false;
  }
}
