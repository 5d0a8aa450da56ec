import { mix, Prng } from './prng';
import { type SimConfig } from './sim-config';

/** What one step of a schedule does, after the clock has moved on by the step's `dt`. */
export type Action =
  /** A login on replica `r` for user `u`; `frac`: a token with a fractional `iat` and `exp`. */
  | { readonly k: 'login'; readonly r: number; readonly u: number; readonly frac: boolean }
  /** Logout of token `t` (an index into the issued tokens, modulo their count) on `r`. */
  | { readonly k: 'logout'; readonly r: number; readonly t: number }
  /** Logout-all of the user of token `t` on `r`. */
  | { readonly k: 'logoutAll'; readonly r: number; readonly t: number }
  /** A refresh on `r` of the session of token `t`: a new token of that session, unless it ended. */
  | { readonly k: 'refresh'; readonly r: number; readonly t: number }
  /** The end of the session of token `t` on `r` (logout, reuse detected, a session deleted). */
  | { readonly k: 'endSession'; readonly r: number; readonly t: number }
  /** Token `t` presented to replica `r`. */
  | { readonly k: 'check'; readonly r: number; readonly t: number }
  | { readonly k: 'crash'; readonly r: number }
  | { readonly k: 'start'; readonly r: number }
  | { readonly k: 'pause'; readonly r: number }
  | { readonly k: 'resume'; readonly r: number }
  /** The replica's subscription connection is killed (it reconnects on its own). */
  | { readonly k: 'killSub'; readonly r: number }
  /** The replica's command connection is killed (in-flight replies are lost). */
  | { readonly k: 'killConn'; readonly r: number }
  /** Redis unreachable for `ms`, then back with its data. */
  | { readonly k: 'storeDown'; readonly ms: number }
  /** Redis restarted after `ms`: with its data (`keep`) or empty. */
  | { readonly k: 'storeRestart'; readonly keep: boolean; readonly ms: number }
  /**
   * Failover onto a replica that missed the last `lose` log appends; the new master's clock is
   * `offset` ms off the old one's.
   */
  | { readonly k: 'failover'; readonly lose: number; readonly offset: number }
  /** The worker's tidy job (one batch). */
  | { readonly k: 'tidy' }
  /** The `n` oldest log entries trimmed, live or not. */
  | { readonly k: 'trim'; readonly n: number }
  /** An unreadable log entry: garbage, or (`newer`) a newer build's entry with a number. */
  | { readonly k: 'badEntry'; readonly newer: boolean }
  /** A malformed message published on the revocation channel. */
  | { readonly k: 'badMessage' };

/** One step: let `dt` ms pass (everything due meanwhile happens), then act. */
export interface Step {
  readonly dt: number;
  readonly a: Action;
}

/** A schedule: the seed (deployment, latencies, losses) and its steps. */
export interface Schedule {
  readonly seed: number;
  readonly steps: readonly Step[];
}

/** The kinds of step. */
export type ActionKind = Action['k'];

const CLIENT: Partial<Record<ActionKind, number>> = {
  login: 16,
  logout: 12,
  logoutAll: 5,
  check: 10,
};

const FAULTS: Partial<Record<ActionKind, number>> = {
  crash: 2,
  start: 3,
  pause: 1.5,
  resume: 2,
  killSub: 3,
  killConn: 2,
  storeDown: 1.5,
  storeRestart: 2.5,
  failover: 2,
  tidy: 2,
  trim: 1,
  badEntry: 1.5,
  badMessage: 1,
};

/** Session steps, drawn from a stream of their own (see {@link withSessionSteps}). */
const SESSIONS: Partial<Record<ActionKind, number>> = {
  refresh: 3,
  endSession: 2,
};

/** Keys the session steps' stream apart from the seed's main one. */
const SESSION_STREAM = 0x5e55;

/** Draws the steps of a schedule from its seed, leaving out the kinds of step in `without`. */
export function generateSchedule(
  seed: number,
  config: SimConfig,
  without: readonly ActionKind[] = [],
): Schedule {
  const prng = new Prng(seed);
  const clients = withoutKinds(CLIENT, without);
  const faults = withoutKinds(FAULTS, without);
  const faultRate = prng.pick([0, 0.1, 0.25, 0.4]);
  const users = prng.between(1, 3);
  const r = (): number => prng.int(config.replicas.length);
  const steps: Step[] = [];
  for (let i = 0; i < config.steps; i++) {
    const kind = prng.chance(faultRate) ? prng.weighted(faults) : prng.weighted(clients);
    const dt = prng.chance(0.3) ? 0 : prng.pick([1, 2, 5, 10, 30, 60, 150, 300]);
    steps.push({ dt, a: drawAction(kind, prng, r, users, config) });
  }
  return { seed, steps: withSessionSteps(seed, steps, config, without) };
}

/**
 * Half the schedules also refresh and end sessions. Those steps come from a stream of their own
 * and are slipped in before a step, within its wait, so that every other step of a seed is drawn,
 * and falls due, exactly as it did before sessions existed (the seeds README.md cites still name
 * the same schedules, give or take these steps).
 */
function withSessionSteps(
  seed: number,
  steps: readonly Step[],
  config: SimConfig,
  without: readonly ActionKind[],
): Step[] {
  const prng = new Prng(mix(seed, SESSION_STREAM));
  const kinds = withoutKinds(SESSIONS, without);
  if (!prng.chance(0.5) || kinds.refresh + kinds.endSession === 0) return [...steps];
  const out: Step[] = [];
  for (const step of steps) {
    if (prng.chance(0.15)) {
      const before = prng.int(step.dt + 1);
      const k = prng.weighted({ refresh: kinds.refresh, endSession: kinds.endSession });
      out.push({ dt: before, a: { k, r: prng.int(config.replicas.length), t: prng.int(64) } });
      out.push({ dt: step.dt - before, a: step.a });
    } else {
      out.push(step);
    }
  }
  return out;
}

function withoutKinds(
  weights: Partial<Record<ActionKind, number>>,
  without: readonly ActionKind[],
): Record<ActionKind, number> {
  const kept = { ...weights };
  for (const kind of without) kept[kind] = 0;
  return kept as Record<ActionKind, number>;
}

function drawAction(
  kind: ActionKind,
  prng: Prng,
  r: () => number,
  users: number,
  config: SimConfig,
): Action {
  switch (kind) {
    case 'login':
      return { k: 'login', r: r(), u: prng.int(users), frac: prng.chance(0.25) };
    case 'logout':
    case 'logoutAll':
    case 'check':
    case 'refresh':
    case 'endSession':
      return { k: kind, r: r(), t: prng.int(64) };
    case 'crash':
    case 'start':
    case 'pause':
    case 'resume':
    case 'killSub':
    case 'killConn':
      return { k: kind, r: r() };
    case 'storeDown':
      return { k: 'storeDown', ms: prng.pick([5, 50, 50, 300, 300, config.maxStalenessMs + 100]) };
    case 'storeRestart':
      return { k: 'storeRestart', keep: prng.chance(0.5), ms: prng.pick([0, 20, 200]) };
    case 'failover':
      // The hosts of one Redis deployment keep their clocks within a few ms of each other; see
      // README.md (finding F) for what a larger jump does to record expiries.
      return { k: 'failover', lose: prng.between(1, 3), offset: prng.between(-20, 20) };
    case 'tidy':
      return { k: 'tidy' };
    case 'trim':
      return { k: 'trim', n: prng.between(1, 4) };
    case 'badEntry':
      return { k: 'badEntry', newer: prng.chance(0.5) };
    case 'badMessage':
      return { k: 'badMessage' };
  }
}

/** An action as words: its kind and its arguments. */
export function formatAction(a: Action): string {
  const args = Object.entries(a)
    .filter(([key]) => key !== 'k')
    .map(([key, value]) => `${key}=${String(value)}`)
    .join(' ');
  return `${a.k}${args === '' ? '' : ' ' + args}`;
}

/** One step as a line a person can read. */
export function formatStep(step: Step, at: number): string {
  return `t=${String(at).padStart(6)} (+${step.dt}) ${formatAction(step.a)}`;
}

/** A schedule as readable lines (instants relative to the start). */
export function formatSchedule(schedule: Schedule): string {
  let at = 0;
  return schedule.steps
    .map((step) => {
      at += step.dt;
      return formatStep(step, at);
    })
    .join('\n');
}
