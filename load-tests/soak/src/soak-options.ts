/** Options of one soak run, from the command line. */
export interface SoakOptions {
  /** How long the load is held, in minutes. @default 5 */
  readonly minutes: number;
  /** Target rate of the mixed load, requests per second over all replicas. @default 300 */
  readonly rate: number;
  /** Requests in flight at most (lanes). @default 24 */
  readonly concurrency: number;
  /** Kill every pub/sub connection (`CLIENT KILL TYPE pubsub`) this often, in seconds. @default 30 */
  readonly pubsubKillEverySeconds: number;
  /** Crash Redis (SIGKILL) and restart it from its AOF this often, in seconds. @default 90 */
  readonly redisRestartEverySeconds: number;
  /** The fan-out bound: other replicas reject a revoked token this long after the logout returned. @default 100 */
  readonly fanOutBoundMs: number;
  /** Echo the children's output. @default false */
  readonly echo: boolean;
}

const USAGE = `usage: node dist/load-tests/soak/src/main.js [--minutes 5] [--rate 300] [--concurrency 24]
       [--pubsub-kill-every 30] [--redis-restart-every 90] [--fan-out-bound 100] [--echo]`;

/** Parses `argv` (without node and the script); throws with the usage on anything unknown. */
export function parseSoakOptions(argv: readonly string[]): SoakOptions {
  const numbers: Record<string, number> = {
    '--minutes': 5,
    '--rate': 300,
    '--concurrency': 24,
    '--pubsub-kill-every': 30,
    '--redis-restart-every': 90,
    '--fan-out-bound': 100,
  };
  let echo = false;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i] as string;
    if (flag === '--echo') {
      echo = true;
      continue;
    }
    if (flag === '--help' || flag === '-h') throw new Error(USAGE);
    const value = Number(argv[i + 1]);
    if (!(flag in numbers) || !Number.isFinite(value) || value <= 0) {
      throw new Error(`bad or unknown option ${flag} ${argv[i + 1] ?? ''}\n${USAGE}`);
    }
    numbers[flag] = value;
    i++;
  }
  return {
    minutes: numbers['--minutes'] as number,
    rate: numbers['--rate'] as number,
    concurrency: Math.round(numbers['--concurrency'] as number),
    pubsubKillEverySeconds: numbers['--pubsub-kill-every'] as number,
    redisRestartEverySeconds: numbers['--redis-restart-every'] as number,
    fanOutBoundMs: numbers['--fan-out-bound'] as number,
    echo,
  };
}
