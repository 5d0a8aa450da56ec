import * as os from 'node:os';
import * as path from 'node:path';
import { DEFAULT_FAN_OUT_BOUND_MS } from './checker';
import { FAULT_KINDS, parseFaultKinds } from './fault-kind';
import { type NemesisRunOptions } from './nemesis-run';

const USAGE = `usage: node dist/load-tests/nemesis/src/main.js [--minutes 10] [--seed N] [--replicas 3]
       [--history <path>] [--lanes 6] [--faults ${FAULT_KINDS.join(',')}]
       [--tiny-cache 1] [--fan-out-bound ${DEFAULT_FAN_OUT_BOUND_MS}] [--max-think 20] [--dist <dir>] [--echo]
       node dist/load-tests/nemesis/src/main.js --check <history>`;

/** Parses `argv` (without node and the script); throws with the usage on anything wrong. */
export function parseNemesisOptions(
  argv: readonly string[],
  defaultSeed: number = Date.now() % 1_000_000,
): NemesisRunOptions {
  const values = new Map<string, string>();
  let echo = false;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i] as string;
    if (flag === '--echo') echo = true;
    else if (flag === '--help' || flag === '-h') throw new Error(USAGE);
    else if (!KNOWN.has(flag) || argv[i + 1] === undefined) {
      throw new Error(`bad or unknown option ${flag}\n${USAGE}`);
    } else values.set(flag, argv[++i] as string);
  }
  const count = (flag: string, fallback: number, least: number, most: number): number => {
    const text = values.get(flag);
    const value = text === undefined ? fallback : Number(text);
    if (!Number.isFinite(value) || value < least || value > most) {
      throw new Error(`${flag} must be a number from ${least} to ${most}, got ${text}\n${USAGE}`);
    }
    return value;
  };
  const seed = Math.round(count('--seed', defaultSeed, 0, 2 ** 32 - 1));
  const replicas = Math.round(count('--replicas', 3, 3, 5));
  const faults = values.get('--faults');
  return {
    seed,
    minutes: count('--minutes', 10, 0.1, 24 * 60),
    replicas,
    lanes: Math.round(count('--lanes', 6, 1, 64)),
    faultKinds: faults === undefined ? [...FAULT_KINDS] : parseFaultKinds(faults),
    tinyCacheReplicas: Math.round(count('--tiny-cache', 1, 0, replicas)),
    historyPath: path.resolve(
      values.get('--history') ??
        path.join(os.tmpdir(), `rescind-nemesis-seed-${seed}-${Date.now()}.jsonl`),
    ),
    fanOutBoundMs: count('--fan-out-bound', DEFAULT_FAN_OUT_BOUND_MS, 0, 60_000),
    maxThinkMs: Math.round(count('--max-think', 20, 0, 10_000)),
    distDir: values.get('--dist'),
    echo,
  };
}

const KNOWN = new Set([
  '--minutes',
  '--seed',
  '--replicas',
  '--history',
  '--lanes',
  '--faults',
  '--tiny-cache',
  '--fan-out-bound',
  '--max-think',
  '--dist',
]);
