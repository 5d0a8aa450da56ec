import { type BridgeDefect } from './bridge-model';
import { runParallel } from './parallel-run';
import {
  runRegionBatch,
  runRegionSchedule,
  runRegionSeed,
  shrinkRegionSchedule,
} from './region-simulation';
import { type RegionSchedule } from './region-schedule';
import { type Schedule } from './schedule';
import { shrink } from './shrink';
import { drawConfig } from './sim-config';
import { runSchedule, runSeed, scheduleOf } from './simulation';
import { World } from './world';

/** The CI share: at least this many schedules, on the machine's two cores. */
const SCHEDULES = 100_000;

/**
 * Found by this simulation (finding D in README.md, open for what a replica holds ahead of its
 * position without having written it): a failover loses the revocation, nobody writes it back. Counted as a failure
 * here (`findings`), it serves as a real failure to shrink and replay.
 */
const FINDING_D_SEED = 244514;

describe('the deterministic simulation of the revocation core', () => {
  it(`breaks no promise in ${SCHEDULES.toLocaleString('en')} schedules`, async () => {
    const report = await runParallel({ from: 0, count: SCHEDULES, workers: 2 });
    const seconds = report.elapsedMs / 1000;
    const known = Object.entries(report.known)
      .map(([finding, seeds]) => `${finding} in ${seeds.length} (e.g. seed ${seeds[0]})`)
      .join(', ');
    console.log(
      `${report.schedules} schedules in ${seconds.toFixed(1)} s: ` +
        `${Math.round(report.schedules / seconds)} schedules/s, ` +
        `${report.failures.length} failing; known findings: ${known === '' ? 'none' : known}`,
    );
    expect(report.failures.slice(0, 3)).toEqual([]);
    expect(report.schedules).toBe(SCHEDULES);
  });

  it('runs a seed the same way every time', async () => {
    for (const seed of [1, 17, 4242]) {
      const [a, b] = [await runSeed(seed), await runSeed(seed)];
      expect(b.fingerprint).toBe(a.fingerprint);
      expect(b.violations).toEqual(a.violations);
    }
  });

  it('lets every chain of awaits the core starts finish before the next event', async () => {
    for (let seed = 0; seed < 150; seed++) {
      const config = drawConfig(seed);
      const fingerprints: number[] = [];
      for (const turns of [undefined, 200]) {
        const world = new World(seed, config, turns);
        await world.run(scheduleOf(seed), false);
        fingerprints.push(world.fingerprint);
      }
      expect([seed, fingerprints[1]]).toEqual([seed, fingerprints[0]]);
    }
  });

  it('shrinks a failing schedule to a few steps that fail the same way when replayed', async () => {
    const options = { findings: ['unnoticed-loss'] as const };
    const failing = await runSeed(FINDING_D_SEED, options);
    const kind = failing.violations[0]?.kind;
    expect(kind).toBeDefined();
    const { schedule } = await shrink(failing.schedule, kind, options);
    expect(schedule.steps.length).toBeLessThanOrEqual(12);
    const replayed = JSON.parse(JSON.stringify(schedule)) as Schedule;
    const again = await runSchedule(replayed, options);
    expect(again.violations.map((v) => v.kind)).toContain(kind);
    expect((await runSchedule(replayed, options)).fingerprint).toBe(again.fingerprint);
  });
});

/** The regions share: a few seconds on one core, next to the 100,000 schedules above. */
const REGION_SCHEDULES = 2_000;

describe('the deterministic simulation of regions, links and partitions', () => {
  it(`converges without losing a revocation in ${REGION_SCHEDULES.toLocaleString('en')} schedules`, () => {
    const report = runRegionBatch(0, REGION_SCHEDULES);
    const { p50, p99, max } = report.convergence;
    console.log(
      `${report.schedules} regions schedules in ${(report.elapsedMs / 1000).toFixed(1)} s, ` +
        `${report.failures.length} failing; convergence after the faults stop: ` +
        `p50 ${p50} ms, p99 ${p99} ms, max ${max} ms`,
    );
    expect(report.failures.slice(0, 3).map((f) => [f.schedule.seed, f.violations])).toEqual([]);
    expect(report.schedules).toBe(REGION_SCHEDULES);
  });

  it('runs a regions seed the same way every time', () => {
    for (const seed of [1, 17, 4242]) {
      const [a, b] = [runRegionSeed(seed), runRegionSeed(seed)];
      expect(b.fingerprint).toBe(a.fingerprint);
      expect(b.violations).toEqual(a.violations);
      expect(b.convergenceMs).toBe(a.convergenceMs);
    }
  });

  it.each<[BridgeDefect, number]>([
    ['step-over-gap', 200],
    ['save-before-apply', 200],
    ['ignore-peer-epoch', 200],
  ])(
    'finds a bridge with defect %s, shrinks it and replays it; the real rules pass it',
    async (defect, seeds) => {
      const options = { defects: [defect] };
      const found = runRegionBatch(0, seeds, { ...options, stopOnFailure: true });
      const failing = found.failures[0];
      expect(failing).toBeDefined();
      const kind = failing?.violations[0]?.kind ?? 'not-converged';
      const { schedule } = await shrinkRegionSchedule(
        failing?.schedule ?? { seed: 0, steps: [] },
        kind,
        options,
      );
      expect(schedule.steps.length).toBeLessThanOrEqual(16);
      const replayed = JSON.parse(JSON.stringify(schedule)) as RegionSchedule;
      const again = runRegionSchedule(replayed, options);
      expect(again.violations.map((v) => v.kind)).toContain(kind);
      expect(runRegionSchedule(replayed, options).fingerprint).toBe(again.fingerprint);
      // Without the defect the same steps pass.
      expect(runRegionSchedule(replayed).violations).toEqual([]);
    },
  );
});
