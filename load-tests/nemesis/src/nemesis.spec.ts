import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FAULT_KINDS, type FaultKind } from './fault-kind';
import { type NemesisRunOutcome, runNemesis } from './nemesis-run';
import { formatReport } from './report-format';

// The CI share of the nemesis: three seeded runs of about 50 s against real processes from the
// build (`npm run build` first; `npm test` does), one per fault mix, about 3 minutes in all.
// The long runs are `npm run nemesis -- --minutes 30 --seed N`.

interface Share {
  readonly seed: number;
  readonly replicas: number;
  readonly tinyCacheReplicas: number;
  readonly faultKinds: readonly FaultKind[];
}

const SHARES: readonly Share[] = [
  {
    seed: 101,
    replicas: 3,
    tinyCacheReplicas: 1,
    faultKinds: [
      'pause-replica',
      'kill-replica',
      'output-buffer-cut',
      'partition-reset',
      'partition-blackhole',
    ],
  },
  {
    seed: 202,
    replicas: 3,
    tinyCacheReplicas: 1,
    faultKinds: ['redis-kill', 'redis-wipe', 'kill-worker', 'pubsub-kill'],
  },
  { seed: 303, replicas: 4, tinyCacheReplicas: 2, faultKinds: FAULT_KINDS },
];
const SECONDS = 50;

describe.each(SHARES)('the nemesis, seed $seed ($faultKinds)', (share) => {
  const historyPath = path.join(
    os.tmpdir(),
    `rescind-nemesis-ci-${share.seed}-${process.pid}.jsonl`,
  );
  let outcome: NemesisRunOutcome;

  beforeAll(async () => {
    outcome = await runNemesis({
      ...share,
      minutes: SECONDS / 60,
      lanes: 6,
      historyPath,
      fanOutBoundMs: 100,
      maxThinkMs: 20,
    });
    console.log(formatReport(outcome));
  });

  afterAll(() => {
    // Kept when something failed, for the excerpt in the report.
    if (outcome?.result.violations.length === 0 && outcome.result.liveness.ok)
      fs.rmSync(historyPath, { force: true });
  });

  it('finds no revoked token answered 200 past its bound', () => {
    expect(outcome.result.violations).toEqual([]);
  });

  it('ends with every fault healed and every replica ready again (liveness)', () => {
    expect(outcome.result.liveness).toEqual({ ok: true, problems: [] });
  });

  it('judged enough reads of revoked tokens for the verdict to mean something', () => {
    expect(outcome.result.judgedRevokedReads).toBeGreaterThan(200);
  });

  it('injected every fault of its mix (or at least five, for the mix of all)', () => {
    const injected = share.faultKinds.filter((kind) => outcome.result.faults[kind].count > 0);
    if (share.faultKinds.length <= 5) expect(injected).toEqual(share.faultKinds);
    // The mix of all fits fewer faults in its minutes when both cores are busy: five kinds at least.
    else expect(injected.length).toBeGreaterThanOrEqual(5);
  });

  it('made its tiny-cache replicas evict and ask the store', () => {
    const tiny = outcome.replicas.filter((replica) => replica.cacheMax <= 8);
    expect(tiny).toHaveLength(share.tinyCacheReplicas);
    expect(tiny.reduce((sum, replica) => sum + (replica.overflowLookups ?? 0), 0)).toBeGreaterThan(
      0,
    );
  });
});
