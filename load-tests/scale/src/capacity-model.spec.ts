import { fitCapacity, maxRate, median } from './capacity-model';

describe('fitCapacity', () => {
  const sample = (replicas: number, rate: number, cpuUs: number, lost = 0) => ({
    replicas,
    rate,
    written: rate * 1000,
    redisCpuSeconds: (cpuUs * rate * 1000 * replicas) / 1e6,
    netOutputBytes: 300 * rate * 1000 * replicas,
    lost,
  });

  it('takes the median cost per delivery of the cells that weigh and lost nothing', () => {
    const model = fitCapacity([
      sample(100, 100, 2),
      sample(1000, 100, 1),
      sample(100, 1000, 1.5),
      sample(1000, 1000, 50, 7), // lost messages: left out
      sample(1, 100, 100), // too few deliveries (100,000): left out
    ]);
    expect(model?.cpuUsPerDelivery).toBeCloseTo(1.5, 6);
    expect(model?.bytesPerDelivery).toBeCloseTo(300, 6);
    expect(model?.deliveriesPerSecond).toBeCloseTo(0.7e6 / 1.5, 3);
  });

  it('bounds the rate by CPU or network, whichever binds first', () => {
    const model = fitCapacity([sample(1000, 100, 1)], { networkBytesPerSecond: 3e7 });
    expect(model).toBeDefined();
    if (model === undefined) return;
    expect(maxRate(model, 1000)).toBeCloseTo(100, 6); // 3e7 B/s ÷ 300 B ÷ 1000 replicas
  });

  it('has no model without a usable cell', () => {
    expect(fitCapacity([sample(1000, 1000, 5, 1)])).toBeUndefined();
  });
});

describe('median', () => {
  it('is the middle value, or the mean of the two middle ones', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(() => median([])).toThrow(RangeError);
  });
});
