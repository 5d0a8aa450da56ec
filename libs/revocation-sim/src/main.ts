import { availableParallelism } from 'node:os';
import { type CommonArgs, parseCommonArgs, readReplay, say } from './cli-args';
import { type KnownFinding, type Violation, type ViolationKind } from './lib/checker';
import { runParallel } from './lib/parallel-run';
import { regionsMain } from './region-cli';
import { type ActionKind, formatSchedule, type Schedule } from './lib/schedule';
import { shrink } from './lib/shrink';
import { runSchedule, type RunOptions, scheduleOf } from './lib/simulation';

/*
 * The deterministic simulation of the revocation core, from the command line:
 *
 *   npm run simulate -- [--schedules N] [--seed S] [--minutes M] [--workers W]
 *                       [--stop-on-failure] [--logins-anywhere] [--no-shrink]
 *                       [--without KIND,KIND…]   (kinds of step left out, e.g. failover)
 *                       [--finding NAME,NAME…]   (known findings that count as failures)
 *   npm run simulate -- --seed S --schedules 1 [--trace]  one schedule (traced, or shrunk)
 *   npm run simulate -- --replay FILE|JSON [--trace]       a (shrunk) schedule, exactly
 *   npm run simulate -- --regions …                        regions, links and partitions
 *
 * Exit status 1 when a promise was broken (known findings do not count).
 */

interface Args extends CommonArgs {
  minutes?: number;
  workers: number;
  run: RunOptions;
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = {
    schedules: 100_000,
    seed: 0,
    workers: Math.max(1, Math.min(availableParallelism(), 8)),
    stopOnFailure: false,
    shrink: true,
    trace: false,
    run: {},
  };
  return parseCommonArgs(
    argv,
    args,
    (flag, value) => {
      switch (flag) {
        case '--minutes':
          args.minutes = Number(value());
          return true;
        case '--workers':
          args.workers = Number(value());
          return true;
        case '--logins-anywhere':
          args.run = { ...args.run, loginsAnywhere: true };
          return true;
        case '--without':
          args.run = { ...args.run, without: value().split(',') as ActionKind[] };
          return true;
        case '--finding':
          args.run = { ...args.run, findings: value().split(',') as KnownFinding[] };
          return true;
        default:
          return false;
      }
    },
    (flag) => `unknown option ${flag}`,
  );
}

function describeViolations(violations: readonly Violation[]): string {
  return violations.map((v) => `  ${v.kind}: ${v.message}`).join('\n');
}

/** Shrinks a failing schedule and prints the result with the commands that replay it. */
async function shrinkAndPrint(failing: Schedule, kind: ViolationKind | undefined, args: Args) {
  const shrunk = await shrink(failing, kind, args.run);
  say(
    `\nshrunk from ${failing.steps.length} to ${shrunk.schedule.steps.length} steps ` +
      `(${shrunk.runs} runs), still failing with ${String(kind)}:`,
  );
  say(formatSchedule(shrunk.schedule));
  const flags =
    (args.run.loginsAnywhere === true ? ' --logins-anywhere' : '') +
    (args.run.without === undefined ? '' : ` --without ${args.run.without.join(',')}`) +
    (args.run.findings === undefined ? '' : ` --finding ${args.run.findings.join(',')}`);
  say(
    `\nreplay: npm run simulate -- --replay '${JSON.stringify(shrunk.schedule)}'${flags} --trace`,
  );
  say(
    `(the whole schedule: npm run simulate -- --seed ${failing.seed} --schedules 1${flags} --trace)`,
  );
}

/** Runs one schedule and prints what happened; 1 when it broke a promise. */
async function runOne(schedule: Schedule, args: Args, shrinkIt: boolean): Promise<number> {
  const outcome = await runSchedule(schedule, { ...args.run, trace: args.trace });
  say(`schedule of seed ${schedule.seed}, ${schedule.steps.length} steps:`);
  say(formatSchedule(schedule));
  if (outcome.trace !== undefined) {
    say('\ntrace (ms since start):');
    say(outcome.trace.join('\n'));
  }
  say(`\nfingerprint ${outcome.fingerprint.toString(16)}`);
  if (outcome.known.length > 0) say(`known findings:\n${describeViolations(outcome.known)}`);
  if (outcome.violations.length === 0) {
    say('no violation');
    return 0;
  }
  say(`VIOLATIONS:\n${describeViolations(outcome.violations)}`);
  if (shrinkIt) await shrinkAndPrint(schedule, outcome.violations[0]?.kind, args);
  return 1;
}

async function main(): Promise<number> {
  if (process.argv.includes('--regions')) return regionsMain(process.argv.slice(2));
  const args = parseArgs(process.argv.slice(2));
  if (args.replay !== undefined) {
    return runOne(readReplay(args.replay) as Schedule, args, false);
  }
  if (args.schedules === 1) {
    return runOne(scheduleOf(args.seed, args.run.without), args, args.shrink && !args.trace);
  }

  say(
    `simulating ${args.schedules} schedules from seed ${args.seed} on ${args.workers} ` +
      `worker thread(s)${args.minutes === undefined ? '' : `, at most ${args.minutes} min`}`,
  );
  let lastPrint = 0;
  const report = await runParallel({
    from: args.seed,
    count: args.schedules,
    workers: args.workers,
    stopOnFailure: args.stopOnFailure,
    run: args.run,
    ...(args.minutes === undefined ? {} : { deadlineMs: args.minutes * 60_000 }),
    onProgress: (done, ms) => {
      if (ms - lastPrint < 10_000) return;
      lastPrint = ms;
      say(`  ${done} schedules, ${Math.round((done / ms) * 1000)}/s`);
    },
  });
  const seconds = report.elapsedMs / 1000;
  say(
    `${report.schedules} schedules in ${seconds.toFixed(1)} s ` +
      `(${Math.round(report.schedules / seconds)}/s), ${report.failures.length} failing`,
  );
  for (const [finding, seeds] of Object.entries(report.known)) {
    say(`known finding ${finding}: ${seeds.length} schedule(s), e.g. seed ${seeds[0]}`);
  }
  const first = report.first;
  if (first === undefined) return 0;
  say(
    `\nfirst failure: seed ${first.seed}, seen after ${first.schedulesRun} schedules and ` +
      `${(first.atMs / 1000).toFixed(1)} s`,
  );
  say(describeViolations(first.violations));
  const seeds = report.failures.slice(0, 20).map((f) => f.seed);
  say(`failing seeds: ${seeds.join(' ')}${report.failures.length > 20 ? ' …' : ''}`);
  if (args.shrink) {
    await shrinkAndPrint(scheduleOf(first.seed, args.run.without), first.violations[0]?.kind, args);
  }
  return 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 2;
  },
);
