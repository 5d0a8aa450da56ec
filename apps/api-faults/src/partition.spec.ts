import { setTimeout as sleep } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';
import { type ApiClient, newCredentials, waitFor } from '@rescind/testing';
import { FaultRun, type RunVerdicts } from './support/fault-run';
import { type TrafficTotals } from './support/steady-traffic';
import { type AuditedRevocation } from './support/revocation-auditor';

const MAX_STALENESS_MS = 1_000;
const SYNC_INTERVAL_MS = 200;
/** Once the cut-off replica has reacted, the partition lasts this much longer (the fault's length). */
const PARTITION_HOLD_MS = 1_500;
/** Scheduling slack on a busy 2-core machine for "503 once MAX_STALENESS_MS passes". */
const FAIL_CLOSED_SLACK_MS = 500;
/**
 * FAIL_MODE=open: what it missed is enforced within this long of the heal (the reconnect
 * back-off is at most 1 s, the anti-entropy period 200 ms; the rest is slack).
 */
const OPEN_HEAL_BOUND_MS = 2_000;
const READY_AGAIN_BOUND_MS = 5_000;
/** Replicas: a and b reach Redis directly; c (closed) and d (open) through a proxy each. */
const CLOSED = 2;
const OPEN = 3;

interface Partition {
  cutAt: number;
  reactedAt: number;
  healedAt: number;
  servesAgainAt: number;
  readyAt: number;
}

describe(`when one replica is cut off from Redis while the others are not (MAX_STALENESS_MS=${MAX_STALENESS_MS})`, () => {
  const cluster = FaultRun.cluster('partition', {
    env: { MAX_STALENESS_MS: String(MAX_STALENESS_MS), SYNC_INTERVAL_MS: String(SYNC_INTERVAL_MS) },
    replicas: [
      {},
      {},
      { env: { FAIL_MODE: 'closed' }, viaProxy: true },
      { env: { FAIL_MODE: 'open' }, viaProxy: true },
    ],
  });
  let run: FaultRun;
  let verdicts: RunVerdicts;
  let totals: TrafficTotals;
  let valid: string;
  const partitions = new Map<number, Partition>();
  /** Answers of the cut-off replica, the moment it first served again, to tokens revoked meanwhile. */
  const firstAnswersAfterHeal = new Map<number, number[]>();
  let openServedDuringPartition: number[] = [];
  let openStalenessAtHeal = Number.NaN;

  /** Revocations whose call returned while `replica` was cut off. */
  function revokedDuring(replica: number): AuditedRevocation[] {
    const partition = partitions.get(replica) as Partition;
    return run.auditor.allRevocations.filter(
      (revocation) =>
        revocation.returnedAtMs >= partition.cutAt && revocation.returnedAtMs < partition.healedAt,
    );
  }

  async function statusesOn(replica: number, tokens: readonly string[]): Promise<number[]> {
    const client = cluster.clients[replica] as ApiClient;
    return Promise.all(tokens.map(async (token) => (await client.me(token)).status));
  }

  /**
   * Cuts `replica` off, waits for `reacted`, holds the partition, heals it and waits for
   * recovery. Presents every token revoked meanwhile the moment it serves again (fail-closed) or
   * is ready again (fail-open, which never stopped serving).
   */
  async function partition(
    replica: number,
    reacted: () => Promise<boolean>,
    duringHold?: () => Promise<void>,
  ): Promise<void> {
    const failsClosed = replica === CLOSED;
    const client = cluster.clients[replica] as ApiClient;
    const proxy = cluster.proxy(replica);
    const cutAt = performance.now();
    proxy.reset();
    await waitFor(reacted, {
      timeoutMs: MAX_STALENESS_MS * 5,
      intervalMs: 10,
      description: `replica ${client.label} to react to the cut`,
    });
    const reactedAt = performance.now();
    await sleep(PARTITION_HOLD_MS);
    await duringHold?.();
    const healedAt = performance.now();
    partitions.set(replica, {
      cutAt,
      reactedAt,
      healedAt,
      servesAgainAt: Infinity,
      readyAt: Infinity,
    });
    proxy.heal();
    const revokedMeanwhile = (): string[] =>
      revokedDuring(replica).flatMap((revocation) => revocation.tokens);
    let servesAgainAt = healedAt;
    if (failsClosed) {
      await waitFor(async () => (await client.me(valid)).status === 200, {
        timeoutMs: READY_AGAIN_BOUND_MS,
        intervalMs: 5,
        description: `replica ${client.label} to serve again`,
      });
      servesAgainAt = performance.now();
      firstAnswersAfterHeal.set(replica, await statusesOn(replica, revokedMeanwhile()));
    }
    await cluster.waitAllReady(READY_AGAIN_BOUND_MS, `replica ${client.label} to be ready again`, [
      replica,
    ]);
    const readyAt = performance.now();
    if (!failsClosed)
      firstAnswersAfterHeal.set(replica, await statusesOn(replica, revokedMeanwhile()));
    partitions.set(replica, { cutAt, reactedAt, healedAt, servesAgainAt, readyAt });
  }

  beforeAll(async () => {
    await cluster.start();
    valid = await (cluster.clients[0] as ApiClient).registerAndLogin(newCredentials('valid'));
    run = new FaultRun(cluster);
    try {
      await run.start();
      const closed = cluster.clients[CLOSED] as ApiClient;
      const open = cluster.clients[OPEN] as ApiClient;
      // FAIL_MODE=closed: it fails closed once MAX_STALENESS_MS has passed.
      await partition(CLOSED, async () => (await closed.me(valid)).status === 503);
      await run.revocationsMade();
      // FAIL_MODE=open: it stops reporting ready, keeps serving; past the bound by the heal.
      await partition(
        OPEN,
        async () => (await open.readiness()).status === 503,
        async () => {
          openServedDuringPartition = await statusesOn(OPEN, [valid]);
          openStalenessAtHeal = (await open.readiness()).json?.stalenessMs ?? Number.NaN;
        },
      );
      await run.revocationsMade();
    } finally {
      totals = await run.finish();
    }
    const closed = partitions.get(CLOSED) as Partition;
    const open = partitions.get(OPEN) as Partition;
    verdicts = run.verdicts({
      acceptableUntil: (request, revocation, standard) => {
        if (
          request.replica === CLOSED &&
          standard >= closed.cutAt &&
          revocation.returnedAtMs <= closed.readyAt
        ) {
          // Cut off, it cannot hear of it and must stop serving once stale; re-subscribing after
          // the heal, it still enforces everything within MAX_STALENESS_MS (bounded staleness).
          return revocation.returnedAtMs < closed.healedAt
            ? Math.max(standard, closed.cutAt + MAX_STALENESS_MS)
            : Math.max(standard, revocation.returnedAtMs + MAX_STALENESS_MS);
        }
        if (
          request.replica === OPEN &&
          standard >= open.cutAt &&
          revocation.returnedAtMs <= open.readyAt
        ) {
          // It serves from its cache until it has reconnected and caught up.
          return Math.max(standard, open.healedAt + OPEN_HEAL_BOUND_MS);
        }
        return standard;
      },
      designed503: (request) =>
        (request.replica === CLOSED &&
          request.doneAtMs >= closed.cutAt &&
          request.sentAtMs <= closed.readyAt) ||
        (request.replica === OPEN &&
          request.route !== 'me' &&
          request.doneAtMs >= open.cutAt &&
          request.sentAtMs <= open.readyAt),
    });
  });

  FaultRun.afterScenario(
    cluster,
    () => ({ verdicts, totals }),
    () => {
      const closed = partitions.get(CLOSED) as Partition;
      const open = partitions.get(OPEN) as Partition;
      return {
        scenario: '5 partition',
        faults: `replica c (FAIL_MODE=closed) then d (open) cut off from Redis by a TCP proxy for ${Math.round(closed.healedAt - closed.cutAt)}/${Math.round(open.healedAt - open.cutAt)} ms; ${revokedDuring(CLOSED).length}/${revokedDuring(OPEN).length} revocations made meanwhile`,
        recovery: {
          'c 503 after cut ms': closed.reactedAt - closed.cutAt,
          'c serves again after heal ms': closed.servesAgainAt - closed.healedAt,
          'c ready after heal ms': closed.readyAt - closed.healedAt,
          'd not ready after cut ms': open.reactedAt - open.cutAt,
          'd ready after heal ms': open.readyAt - open.healedAt,
        },
      };
    },
  );

  FaultRun.judge(() => verdicts, {
    strict: `accepts no revoked token later than its bound (100 ms; c: ${MAX_STALENESS_MS} ms after the cut, then MAX_STALENESS_MS; d: ${OPEN_HEAL_BOUND_MS} ms after the heal)`,
    nothingLost:
      'loses nothing: what a replica missed while not ready is enforced once it is ready again',
    clean: 'answers no 5xx but the designed 503s, and rejects no valid token',
  });

  describe('with FAIL_MODE=closed', () => {
    it(`answers 503 once MAX_STALENESS_MS has passed (within ${FAIL_CLOSED_SLACK_MS} ms of slack)`, () => {
      const closed = partitions.get(CLOSED) as Partition;
      expect(closed.reactedAt - closed.cutAt).toBeLessThan(MAX_STALENESS_MS + FAIL_CLOSED_SLACK_MS);
    });

    it('serves again only after catching up: the first moment it serves, it rejects everything revoked meanwhile', () => {
      expect(revokedDuring(CLOSED).length).toBeGreaterThan(0);
      const statuses = firstAnswersAfterHeal.get(CLOSED) as number[];
      expect(statuses.filter((status) => status !== 401)).toEqual([]);
    });

    it(`is ready again within ${READY_AGAIN_BOUND_MS} ms of the heal`, () => {
      const closed = partitions.get(CLOSED) as Partition;
      expect(closed.readyAt - closed.healedAt).toBeLessThan(READY_AGAIN_BOUND_MS);
    });
  });

  describe('with FAIL_MODE=open', () => {
    it('keeps serving from its cache past the bound, and reports itself not ready', () => {
      expect(openServedDuringPartition).toEqual([200]);
      expect(openStalenessAtHeal).toBeGreaterThan(MAX_STALENESS_MS);
      const served = run.auditor.allRequests.filter(
        (request) =>
          request.replica === OPEN &&
          request.route === 'me' &&
          request.sentAtMs >= (partitions.get(OPEN) as Partition).cutAt &&
          request.doneAtMs <= (partitions.get(OPEN) as Partition).healedAt,
      );
      expect(served.length).toBeGreaterThan(0);
      expect(served.filter((request) => request.status !== 200 && request.status !== 401)).toEqual(
        [],
      );
    });

    it(`enforces what the others revoked meanwhile once healed, within ${OPEN_HEAL_BOUND_MS} ms`, () => {
      const open = partitions.get(OPEN) as Partition;
      expect(revokedDuring(OPEN).length).toBeGreaterThan(0);
      expect(open.readyAt - open.healedAt).toBeLessThan(OPEN_HEAL_BOUND_MS);
      const statuses = firstAnswersAfterHeal.get(OPEN) as number[];
      expect(statuses.filter((status) => status !== 401)).toEqual([]);
    });
  });
});
