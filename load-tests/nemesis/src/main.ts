import * as os from 'node:os';
import { checkHistory } from './checker';
import { FAULT_DESCRIPTIONS } from './fault-kind';
import { readHistory } from './history-file';
import { parseNemesisOptions } from './nemesis-options';
import { type NemesisRunOptions, runNemesis } from './nemesis-run';
import { formatReport, passed } from './report-format';

// `npm run nemesis -- --minutes 30 --seed 7` from the repository root: a Jepsen-style run of
// client operations and faults against real processes, checked afterwards from its history.
// `--check <history>` judges a saved history again. Exit status: 0 passed, 1 a violation of the invariant, a liveness failure or a crash, 2 bad
// options.
async function main(argv: readonly string[]): Promise<number> {
  if (argv[0] === '--check' && argv[1] !== undefined) return checkOnly(argv[1]);
  let options: NemesisRunOptions;
  try {
    options = parseNemesisOptions(argv);
  } catch (error) {
    console.error((error as Error).message);
    return 2;
  }
  console.log(
    `Rescind nemesis: seed ${options.seed}, ${options.minutes} min, ${options.replicas} replicas ` +
      `(${options.tinyCacheReplicas} with a tiny cache), ${options.lanes} client lanes ` +
      `(node ${process.version}, ${os.cpus().length} CPUs, ${new Date().toISOString()})`,
  );
  for (const kind of options.faultKinds)
    console.log(`  fault ${kind}: ${FAULT_DESCRIPTIONS[kind]}`);
  const outcome = await runNemesis({
    ...options,
    log: (line) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`),
  });
  console.log(formatReport(outcome));
  return passed(outcome.result) ? 0 : 1;
}

/** Judges a history written earlier, e.g. again after the checker changed. */
async function checkOnly(historyPath: string): Promise<number> {
  const result = checkHistory(await readHistory(historyPath));
  console.log(formatReport({ result, historyPath, replicas: [], wallMs: result.durationMs }));
  return passed(result) ? 0 : 1;
}

// Exiting runs the harness's exit hooks: every child is killed and every temp dir removed.
process.once('SIGINT', () => process.exit(130));
process.once('SIGTERM', () => process.exit(143));

void main(process.argv.slice(2))
  .catch((error: unknown) => {
    const why = error instanceof Error ? (error.stack ?? error.message) : String(error);
    console.error(`the nemesis run failed: ${why}`);
    return 1;
  })
  .then((status) => process.exit(status));
