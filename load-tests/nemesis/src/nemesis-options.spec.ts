import { FAULT_KINDS } from './fault-kind';
import { parseNemesisOptions } from './nemesis-options';

describe('parseNemesisOptions', () => {
  it('has defaults for everything, with the seed given', () => {
    const options = parseNemesisOptions([], 99);
    expect(options).toMatchObject({
      seed: 99,
      minutes: 10,
      replicas: 3,
      lanes: 6,
      faultKinds: [...FAULT_KINDS],
      tinyCacheReplicas: 1,
      fanOutBoundMs: 100,
    });
    expect(options.historyPath).toMatch(/rescind-nemesis-seed-99-\d+\.jsonl$/);
  });

  it('reads every option', () => {
    const options = parseNemesisOptions(
      [
        '--minutes',
        '30',
        '--seed',
        '7',
        '--replicas',
        '5',
        '--history',
        '/tmp/h.jsonl',
        '--faults',
        'redis-wipe,pause-replica',
        '--echo',
      ],
      1,
    );
    expect(options).toMatchObject({
      minutes: 30,
      seed: 7,
      replicas: 5,
      historyPath: '/tmp/h.jsonl',
      faultKinds: ['redis-wipe', 'pause-replica'],
      echo: true,
    });
  });

  it.each([
    [['--replicas', '2']],
    [['--replicas', '6']],
    [['--minutes', 'soon']],
    [['--faults', 'meteor']],
    [['--seed']],
    [['--frobnicate', '1']],
  ])('refuses %j with the usage', (argv) => {
    expect(() => parseNemesisOptions(argv, 1)).toThrow(/usage|unknown fault kinds/);
  });
});
