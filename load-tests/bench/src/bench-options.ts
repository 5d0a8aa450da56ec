import { type LoadMethod } from './revocation-loader';

/** Sizes and durations of one benchmark run; `--quick` trades precision for a run under 2 minutes. */
export interface BenchOptions {
  readonly quick: boolean;
  /** Live revocations loaded before the HTTP rounds. */
  readonly liveRevocations: number;
  /** How they are loaded: `direct` (fast, the default) or `--load=store` (the Lua script). */
  readonly loadMethod: LoadMethod;
  /** Concurrent autocannon connections per round. */
  readonly connections: number;
  /** Measured seconds per round. */
  readonly roundSeconds: number;
  /** Measured seconds per round of the external section (shorter when quick, to fit its budget). */
  readonly externalRoundSeconds: number;
  /** Unmeasured seconds of load before each round. */
  readonly warmupSeconds: number;
  /** Unmeasured seconds of load per configuration before the first round (JIT, pools). */
  readonly initialWarmupSeconds: number;
  /** Rounds per configuration, alternating between configurations. */
  readonly rounds: number;
  /** Revocations timed by the fan-out section, idle and again under load. */
  readonly fanOutRevocations: number;
  /** Provider sessions ended by a back-channel logout in the external section. */
  readonly backChannelSessions: number;
  /** Sizes of the hydration section. */
  readonly hydrationSizes: readonly number[];
  /** Time spent measuring each micro-benchmark, in ms. */
  readonly microBudgetMs: number;
  /** Sections to skip, e.g. `--skip=fan-out,hydration` while developing. */
  readonly skip: ReadonlySet<string>;
}

/** Sections `--skip` accepts. */
const SECTIONS = ['micro', 'throughput', 'external', 'fan-out', 'hydration'];

/** Parses `--quick`, `--load=store|direct` and `--skip=a,b`; anything else is an error. */
export function parseBenchOptions(argv: readonly string[]): BenchOptions {
  let quick = false;
  let loadMethod: LoadMethod = 'direct';
  const skip = new Set<string>();
  for (const arg of argv) {
    if (arg === '--quick') quick = true;
    else if (arg === '--load=store' || arg === '--load=direct') {
      loadMethod = arg === '--load=store' ? 'store' : 'direct';
    } else if (arg.startsWith('--skip=')) {
      for (const section of arg.slice(7).split(',')) {
        if (!SECTIONS.includes(section)) {
          throw new RangeError(`--skip: unknown section "${section}" (${SECTIONS.join(', ')})`);
        }
        skip.add(section);
      }
    } else {
      throw new RangeError(
        `unknown argument "${arg}" (expected --quick, --load=store|direct, --skip=${SECTIONS.join(',')})`,
      );
    }
  }
  return quick
    ? {
        quick,
        liveRevocations: 100_000,
        loadMethod,
        connections: 50,
        roundSeconds: 2,
        externalRoundSeconds: 1.5,
        warmupSeconds: 0.25,
        initialWarmupSeconds: 0.5,
        rounds: 3,
        fanOutRevocations: 100,
        backChannelSessions: 60,
        hydrationSizes: [100_000],
        microBudgetMs: 150,
        skip,
      }
    : {
        quick,
        liveRevocations: 100_000,
        loadMethod,
        connections: 50,
        // Many short rounds: on a shared machine the speed drifts, and the checked ratios are
        // medians of per-round pairs, which more pairs make steadier.
        roundSeconds: 4,
        externalRoundSeconds: 4,
        warmupSeconds: 0.5,
        initialWarmupSeconds: 3,
        rounds: 9,
        fanOutRevocations: 500,
        backChannelSessions: 300,
        hydrationSizes: [100_000, 1_000_000],
        microBudgetMs: 600,
        skip,
      };
}
