import { type CommonArgs, parseCommonArgs, readReplay, say } from './cli-args';
import { type BridgeDefect } from './lib/bridge-model';
import { formatRegionAction, type RegionSchedule } from './lib/region-schedule';
import {
  runRegionBatch,
  runRegionSchedule,
  runRegionSeed,
  shrinkRegionSchedule,
  type RegionOutcome,
  type RegionRunOptions,
} from './lib/region-simulation';

/*
 * The regions simulation from the command line (README of this library, "Regions, links and
 * partitions"), on one thread:
 *
 *   npm run simulate -- --regions [--schedules N] [--seed S] [--defect NAME,NAME…]
 *                                 [--stop-on-failure] [--no-shrink]
 *   npm run simulate -- --regions --seed S --schedules 1 --trace
 *   npm run simulate -- --regions --replay FILE|JSON [--defect NAME] [--trace]
 *
 * Exit status 1 when a promise was broken.
 */

interface RegionArgs extends CommonArgs {
  defects: BridgeDefect[];
}

function parse(argv: readonly string[]): RegionArgs {
  const defaults: RegionArgs = {
    schedules: 10_000,
    seed: 0,
    stopOnFailure: false,
    shrink: true,
    trace: false,
    defects: [],
  };
  return parseCommonArgs(
    argv,
    defaults,
    (flag, value) => {
      if (flag === '--regions') return true;
      if (flag !== '--defect') return false;
      defaults.defects = value().split(',') as BridgeDefect[];
      return true;
    },
    (flag) => `unknown option ${flag} with --regions`,
  );
}

function describe(outcome: RegionOutcome): string {
  return outcome.violations.map((v) => `  ${v.kind} at ${v.at} ms: ${v.detail}`).join('\n');
}

function formatSteps(schedule: RegionSchedule): string {
  return schedule.steps.map((s) => `  +${s.dt} ${formatRegionAction(s.a)}`).join('\n');
}

async function shrinkAndPrint(outcome: RegionOutcome, options: RegionRunOptions): Promise<void> {
  const kind = outcome.violations[0]?.kind;
  if (kind === undefined) return;
  const { schedule, runs } = await shrinkRegionSchedule(outcome.schedule, kind, options);
  say(`\nshrunk to ${schedule.steps.length} steps (${runs} runs), still ${kind}:`);
  say(formatSteps(schedule));
  const defects = options.defects?.length ? ` --defect ${options.defects.join(',')}` : '';
  say(
    `\nreplay: npm run simulate -- --regions --replay '${JSON.stringify(schedule)}'${defects} --trace`,
  );
}

/** Runs the regions simulation as `argv` asks; resolves to the exit status. */
export async function regionsMain(argv: readonly string[]): Promise<number> {
  const args = parse(argv);
  const options: RegionRunOptions = { defects: args.defects, trace: args.trace };
  if (args.replay !== undefined || args.schedules === 1) {
    const outcome =
      args.replay === undefined
        ? runRegionSeed(args.seed, options)
        : runRegionSchedule(readReplay(args.replay) as RegionSchedule, options);
    say(`regions schedule of seed ${outcome.schedule.seed}:`);
    say(formatSteps(outcome.schedule));
    if (outcome.trace !== undefined) say(`\ntrace (ms since start):\n${outcome.trace.join('\n')}`);
    say(
      `\nfingerprint ${outcome.fingerprint.toString(16)}, converged after ${String(outcome.convergenceMs)} ms`,
    );
    if (outcome.violations.length === 0) {
      say('no violation');
      return 0;
    }
    say(`VIOLATIONS:\n${describe(outcome)}`);
    if (args.replay === undefined && args.shrink && !args.trace) {
      await shrinkAndPrint(outcome, { defects: args.defects });
    }
    return 1;
  }
  say(`simulating ${args.schedules} regions schedules from seed ${args.seed}`);
  const report = runRegionBatch(args.seed, args.schedules, {
    defects: args.defects,
    stopOnFailure: args.stopOnFailure,
  });
  const seconds = report.elapsedMs / 1000;
  const { p50, p99, max } = report.convergence;
  say(
    `${report.schedules} schedules in ${seconds.toFixed(1)} s ` +
      `(${Math.round(report.schedules / seconds)}/s), ${report.failures.length} failing; ` +
      `convergence p50 ${p50} ms, p99 ${p99} ms, max ${max} ms`,
  );
  const first = report.failures[0];
  if (first === undefined) return 0;
  say(`\nfirst failure: seed ${first.schedule.seed}\n${describe(first)}`);
  if (args.shrink) await shrinkAndPrint(first, { defects: args.defects });
  return 1;
}
