import { cellSeconds, parseScaleOptions, poolCacheEntries } from './scale-options';

describe('parseScaleOptions', () => {
  it('defaults to the full matrix, and --quick to a small one', () => {
    const full = parseScaleOptions([], '/out');
    expect(full.replicas).toEqual([10, 100, 1000]);
    expect(full.rates).toEqual([100, 1000, 10_000]);
    expect(full.coldRevocations).toBe(1_000_000);
    expect(full.outDir).toBe('/out');
    const quick = parseScaleOptions(['--quick'], '/out');
    expect(quick.quick).toBe(true);
    expect(quick.replicas).toEqual([10, 100]);
  });

  it('reads lists, numbers and parts to skip', () => {
    const options = parseScaleOptions(
      ['--replicas', '5,50', '--workers', '3', '--skip', 'cold,storm', '--out', 'x'],
      '/out',
    );
    expect(options.replicas).toEqual([5, 50]);
    expect(options.workers).toBe(3);
    expect([...options.skip].sort()).toEqual(['cold', 'storm']);
    expect(options.outDir).toBe('x');
    expect(options.fullReplicas).toBeUndefined();
    expect(parseScaleOptions(['--full-replicas', '40'], '/out').fullReplicas).toBe(40);
  });

  it.each([
    [['--replicas', '10,x']],
    [['--replicas', '0']],
    [['--workers', '']],
    [['--workers', 'two']],
    [['--skip', 'everything']],
    [['--bogus', '1']],
    [['--rates']],
  ])('refuses %j with the usage', (argv) => {
    expect(() => parseScaleOptions(argv, '/out')).toThrow(/usage:/);
  });
});

describe('cellSeconds', () => {
  const options = parseScaleOptions([], '/out');
  it('keeps the full length within the delivery budget', () => {
    expect(cellSeconds(options, 10, 100)).toBe(10);
  });
  it('shortens a cell that would exceed the budget, down to the minimum', () => {
    expect(cellSeconds(options, 1000, 1000)).toBe(2);
    expect(cellSeconds(options, 1000, 10_000)).toBe(0.2);
    expect(cellSeconds(options, 10_000, 10_000)).toBe(0.2);
  });
});

describe('poolCacheEntries', () => {
  it('holds every revocation a matrix row or a storm writes, and no more than needed', () => {
    const options = parseScaleOptions([], '/out');
    // 10 replicas: 100/s × 10 s + 1000/s × 10 s + 10,000/s × 10 s, one spare each, plus 1,000.
    expect(poolCacheEntries(options, 10)).toBe(1001 + 10_001 + 100_001 + 1000);
    // 1,000 replicas: cells shortened to the budget (2,000,000 deliveries).
    expect(poolCacheEntries(options, 1000)).toBe(1001 + 2001 + 2001 + 1000);
  });
});
