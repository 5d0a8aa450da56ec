import { SeededRandom } from './seeded-random';

function draws(random: SeededRandom, count = 50): number[] {
  return Array.from({ length: count }, () => random.next());
}

describe('SeededRandom', () => {
  it('gives the same sequence for the same seed, and another one for another seed', () => {
    expect(draws(new SeededRandom(1))).toEqual(draws(new SeededRandom(1)));
    expect(draws(new SeededRandom(1))).not.toEqual(draws(new SeededRandom(2)));
  });

  it('forks independent, reproducible streams by label', () => {
    const root = new SeededRandom(42);
    expect(draws(root.fork('lane-0'))).toEqual(draws(new SeededRandom(42).fork('lane-0')));
    expect(draws(root.fork('lane-0'))).not.toEqual(draws(root.fork('lane-1')));
  });

  it('stays within its ranges', () => {
    const random = new SeededRandom(3);
    for (let i = 0; i < 1_000; i++) {
      const value = random.next();
      expect(value).toBeGreaterThanOrEqual(0);
      expect(value).toBeLessThan(1);
      const int = random.int(2, 8);
      expect(Number.isInteger(int) && int >= 2 && int <= 8).toBe(true);
    }
  });

  it('draws weighted keys in proportion to their weights', () => {
    const random = new SeededRandom(4);
    const counts = { rare: 0, common: 0 };
    for (let i = 0; i < 10_000; i++) counts[random.weighted({ rare: 1, common: 9 })] += 1;
    expect(counts.rare).toBeGreaterThan(800);
    expect(counts.rare).toBeLessThan(1_200);
  });

  it('shuffles into a permutation', () => {
    const shuffled = new SeededRandom(5).shuffle([1, 2, 3, 4, 5, 6]);
    expect([...shuffled].sort()).toEqual([1, 2, 3, 4, 5, 6]);
  });
});
