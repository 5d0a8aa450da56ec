import { runParallel } from './parallel-run';
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
