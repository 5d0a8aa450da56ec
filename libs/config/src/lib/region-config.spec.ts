import { ConfigError } from './config.error';
import { loadWorkerConfig } from './worker-config';

/** The problems loading the worker's configuration from `env` reports (none: `[]`). */
function problems(env: Record<string, string>): readonly string[] {
  try {
    loadWorkerConfig(env);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
}

describe('PEER_REGIONS', () => {
  it('reads the peers in order, with REGION', () => {
    const config = loadWorkerConfig({
      REGION: 'eu',
      PEER_REGIONS: 'us=redis://10.0.0.2:6379, ap=rediss://:pw@ap.example:6380/0',
    });
    expect(config.region).toBe('eu');
    expect(config.peerRegions).toEqual([
      { name: 'us', redisUrl: 'redis://10.0.0.2:6379' },
      { name: 'ap', redisUrl: 'rediss://:pw@ap.example:6380/0' },
    ]);
  });

  it('is empty when unset, so that no bridge starts', () => {
    expect(loadWorkerConfig({ REGION: 'eu' }).peerRegions).toEqual([]);
  });

  it('refuses an entry without =', () => {
    expect(problems({ REGION: 'eu', PEER_REGIONS: 'redis://10.0.0.2:6379' })).toEqual([
      'PEER_REGIONS: "redis://10.0.0.2:6379" must be name=redis://host:port',
    ]);
  });

  it('refuses a URL that is not redis:// or rediss://', () => {
    expect(problems({ REGION: 'eu', PEER_REGIONS: 'us=http://10.0.0.2' })).toEqual([
      'PEER_REGIONS: the URL of "us" must be redis://host:port or rediss://…',
    ]);
    expect(problems({ REGION: 'eu', PEER_REGIONS: 'us=' })).toHaveLength(1);
  });

  it('refuses a bad name, a name given twice and this region itself', () => {
    expect(
      problems({
        REGION: 'eu',
        PEER_REGIONS: 'u s=redis://a:1,us=redis://b:1,us=redis://c:1,eu=redis://d:1',
      }),
    ).toEqual([
      'PEER_REGIONS: region name "u s" must be 1-64 of [A-Za-z0-9_.:-]',
      'PEER_REGIONS: region "us" is given twice',
      'PEER_REGIONS: "eu" is this region (REGION); a region is not its own peer',
    ]);
  });

  it('needs REGION, the origin the bridge tells echoes by', () => {
    expect(problems({ PEER_REGIONS: 'us=redis://10.0.0.2:6379' })).toEqual([
      'PEER_REGIONS needs REGION, the name of this region',
    ]);
  });
});
