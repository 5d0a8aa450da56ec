import { formatBanner } from './banner';

describe('the banner npm start prints once the stack is ready', () => {
  const running = {
    apiUrls: ['http://127.0.0.1:3001', 'http://127.0.0.1:3002', 'http://127.0.0.1:3003'],
    redisUrl: 'redis://127.0.0.1:40000',
    privateRedis: true,
  };
  const facts = {
    version: '0.1.0',
    adminApiKey: { value: 'k3y', generated: true },
    workerMetricsPort: 9464,
    tidyIntervalMs: 30_000,
  };

  it('lists every replica URL once, then the console, the docs and the metrics', () => {
    const text = formatBanner(running, facts).join('\n');
    for (const url of running.apiUrls) {
      expect(text.split(url).length - 1).toBe(url === running.apiUrls[0] ? 4 : 1);
    }
    expect(text).toContain('http://127.0.0.1:3001/admin/console');
    expect(text).toContain('http://127.0.0.1:3001/docs');
    expect(text).toContain('http://127.0.0.1:9464/metrics');
    expect(text).toContain('redis://127.0.0.1:40000 (private, removed on exit)');
    expect(text).toContain('tidies the store every 30 s');
    expect(text).toMatch(/Press Ctrl-C to stop\.$/);
  });

  it('gives a made-up admin key, and never prints one that was set', () => {
    expect(formatBanner(running, facts).join('\n')).toContain('admin key k3y (made up');
    const chosen = formatBanner(running, {
      ...facts,
      adminApiKey: { value: 'secret', generated: false },
    });
    expect(chosen.join('\n')).not.toContain('secret');
  });

  it('names the region and its peers, never a peer URL', () => {
    expect(formatBanner(running, facts).join('\n')).not.toContain('Region');
    const regional = formatBanner(running, { ...facts, region: 'eu', peerRegions: ['us', 'ap'] });
    expect(regional.join('\n')).toContain('eu; the worker replicates revocations with us, ap');
    expect(regional.length).toBeLessThanOrEqual(20);
    const alone = formatBanner(running, { ...facts, region: 'eu', peerRegions: [] });
    expect(alone.join('\n')).toContain('eu (no PEER_REGIONS: nothing replicated)');
  });

  it('is short: at most a screen of twenty lines for three replicas', () => {
    expect(formatBanner(running, facts).length).toBeLessThanOrEqual(20);
  });
});
