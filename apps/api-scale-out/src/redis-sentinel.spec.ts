import { performance } from 'node:perf_hooks';
import {
  acceptedBeyond,
  type ApiClient,
  claimsOf,
  elapsed,
  formatSummary,
  inBatches,
  loginMany,
  ReadinessMonitor,
  type ReadinessReport,
  type RedisServer,
  summarize,
  TestCluster,
  waitFor,
} from '@rescind/testing';
import { FAN_OUT_BUDGET_MS, measureFanOut } from './support/fan-out';
import { LogoutStream, type StreamedLogout } from './support/logout-stream';
import { SentinelGroup } from './support/redis-sentinel-group';
import { RoleTimeline } from './support/role-timeline';
import { tearDown } from './support/tear-down';

/**
 * Once the sentinels have switched, a client that follows them (ioredis reconnects on
 * `+switch-master`) needs one reconnection and one catch-up: well under this.
 */
const FOLLOW_BUDGET_MS = 2_000;
/** Logouts acknowledged before the failover, and by the new master after it. */
const BEFORE = 30;
const AFTER = 30;
/** How long the stream may wait for the new master to take logouts before the run gives up. */
const STREAM_DEADLINE_MS = 40_000;

// The master refuses writes unless a replica is connected with at most 1 s of lag, so that it
// cannot acknowledge a revocation once its replica has been promoted away from it. The replica
// (the future master) has no such rule, so that it takes writes as soon as it is promoted.
const MASTER_ARGS = ['--min-replicas-to-write', '1', '--min-replicas-max-lag', '1'];
const COMMON_ARGS = ['--repl-diskless-sync-delay', '0'];

describe('on a Sentinel-managed master with one replica and three sentinels (REDIS_SENTINELS)', () => {
  let group: SentinelGroup | undefined;
  let apps: TestCluster | undefined;
  let replicas: ApiClient[];
  const figures: string[] = [];

  beforeAll(async () => {
    group = await SentinelGroup.start({
      masterArgs: [...MASTER_ARGS, ...COMMON_ARGS],
      replicaArgs: COMMON_ARGS,
    });
    apps = new TestCluster({
      suite: 'so',
      redis: 'external',
      name: 'sentinel',
      env: {
        REDIS_SENTINELS: group.sentinelList,
        REDIS_SENTINEL_NAME: group.name,
        // Credentials (none here) come from REDIS_URL; the address from the sentinels.
        REDIS_URL: (group.servers[0] as RedisServer).url,
      },
    });
    await apps.start();
    replicas = apps.clients;
  });

  afterAll(() => tearDown('Redis Sentinel', figures, apps, group));

  /** Names of the Rescind connections (`rescind-…`) a data node holds. */
  async function rescindConnections(server: RedisServer): Promise<string[]> {
    const list = await server.cli('CLIENT', 'LIST');
    return list
      .split('\n')
      .map((line) => /(?:^| )name=(\S*)/.exec(line)?.[1] ?? '')
      .filter((name) => name.startsWith('rescind-'));
  }

  it(`brings every replica to ready through the sentinels, fanning out within ${FAN_OUT_BUDGET_MS} ms`, async () => {
    expect(await Promise.all(replicas.map((client) => client.isReady()))).toEqual([
      true,
      true,
      true,
    ]);
    const rejections = await measureFanOut(replicas, await loginMany(replicas, 9, 'before'));
    const summary = summarize(elapsed(rejections));
    figures.push(`propagation ms before the failover: ${formatSummary(summary)}`);
    // The load-proof bound: no request sent after the budget was still accepted.
    expect(acceptedBeyond(rejections, FAN_OUT_BUDGET_MS)).toEqual([]);
    expect(summary.p50).toBeLessThan(FAN_OUT_BUDGET_MS);
  });

  describe('when the master fails over (SENTINEL FAILOVER) during a stream of logouts on every replica', () => {
    let oldMaster: RedisServer;
    let newMaster: RedisServer;
    let answers: StreamedLogout[] = [];
    let readiness: ReadinessReport[] = [];
    let failoverAtMs = 0;
    let switchedAtMs = 0;
    let streamError: unknown;
    let roles: RoleTimeline | undefined;

    /** The last logout calls of a token: `503@11267–11276ms on :45687, …` (ms after the failover command). */
    function lastCalls(token: string): string {
      const calls = answers
        .filter((answer) => answer.token === token)
        .slice(-3)
        .map(
          (a) =>
            `${a.status}@${(a.sentAtMs - failoverAtMs).toFixed(0)}–${(a.answeredAtMs - failoverAtMs).toFixed(0)}ms on :${new URL(a.replica).port}`,
        );
      return `last calls: ${calls.join(', ')}`;
    }

    beforeAll(async () => {
      const sentinels = group as SentinelGroup;
      const tokens = await loginMany(replicas, 240, 'stream');
      const stream = new LogoutStream(replicas, tokens);
      const monitor = new ReadinessMonitor(replicas);
      roles = new RoleTimeline(sentinels.servers);
      roles.start();
      monitor.start();
      stream.start();
      try {
        await waitFor(() => stream.acknowledgedSince(0) >= BEFORE, {
          timeoutMs: 10_000,
          description: `${BEFORE} acknowledged logouts before the failover`,
        });
        oldMaster = (await sentinels.agreedMaster()) as RedisServer;
        failoverAtMs = performance.now();
        await sentinels.failover();
        newMaster = await sentinels.waitForNewMaster(oldMaster);
        switchedAtMs = performance.now();
        await waitFor(() => stream.acknowledgedSince(switchedAtMs) >= AFTER || stream.exhausted, {
          timeoutMs: STREAM_DEADLINE_MS,
          intervalMs: 50,
          description: `${AFTER} logouts acknowledged after the switch`,
        });
      } catch (error) {
        // Reported by the tests below, with the figures gathered so far.
        streamError = error;
      } finally {
        answers = await stream.stop();
        readiness = await monitor.stop();
      }

      const after = (ms: number): string => (ms - failoverAtMs).toFixed(0);
      const outage = writeOutage(answers, failoverAtMs);
      const statuses = countBy(answers.map((answer) => String(answer.status)));
      figures.push(
        `stream: ${answers.length} logout calls, by status ${JSON.stringify(statuses)}; ${statuses['204'] ?? 0} acknowledged revocations (${answers.filter((a) => a.status === 204 && a.sentAtMs < failoverAtMs).length} before the failover command)`,
        `failover: sentinels agreed on :${newMaster?.port} ${after(switchedAtMs)} ms after SENTINEL FAILOVER (old master :${oldMaster?.port})`,
        `writes refused from ${outage.firstRefusedMs === undefined ? '-' : after(outage.firstRefusedMs)} ms to ${outage.writableAgainMs === undefined ? 'never' : after(outage.writableAgainMs)} ms after the failover command (${outage.refused} answers 503 or no answer)`,
        `readiness during the stream: ${readiness.map((r) => (r.notReady === 0 ? 'never left ready' : `not ready ${after(r.firstNotReadyMs as number)}–${after(r.lastNotReadyMs as number)} ms`)).join('; ')}`,
      );
    });

    // Normally stopped below, once the old master has rejoined; also after a failure.
    afterAll(() => roles?.stop());

    it('kept the stream going: logouts before and after the failover acknowledged', () => {
      expect(streamError).toBeUndefined();
      expect(
        answers.filter((a) => a.status === 204 && a.sentAtMs < failoverAtMs).length,
      ).toBeGreaterThanOrEqual(BEFORE);
      expect(
        answers.filter((a) => a.status === 204 && a.sentAtMs >= switchedAtMs).length,
      ).toBeGreaterThanOrEqual(AFTER);
      // Anything but an acknowledgement or "try again" (503, or no answer) is a bug; a 401 means
      // an unacknowledged attempt had in fact revoked the token before the retry.
      const unexpected = answers.filter((a) => ![204, 503, 0, 401].includes(a.status));
      expect(unexpected.map((a) => a.status)).toEqual([]);
    });

    it(`follows the new master at once: logouts are acknowledged again within ${FOLLOW_BUDGET_MS} ms of the sentinels' switch`, () => {
      const firstAfterSwitch = answers.find((a) => a.status === 204 && a.sentAtMs >= switchedAtMs);
      const waitedMs = (firstAfterSwitch?.answeredAtMs ?? Number.POSITIVE_INFINITY) - switchedAtMs;
      figures.push(`first acknowledged logout ${waitedMs.toFixed(0)} ms after the switch`);
      expect(waitedMs).toBeLessThan(FOLLOW_BUDGET_MS);
    });

    describe('once the old master has been turned into a replica of the new one', () => {
      let acknowledged: string[];

      beforeAll(async () => {
        const sentinels = group as SentinelGroup;
        const startedAt = performance.now();
        await sentinels.waitForReplication(newMaster, oldMaster, 30_000);
        const changes = await (roles as RoleTimeline).stop();
        figures.push(
          `roles of the data nodes (ms after the failover command): ${changes.map((c) => `${(c.atMs - failoverAtMs).toFixed(0)} :${c.port} ${c.role}`).join('; ')}`,
        );
        await waitFor(
          async () =>
            (await Promise.all(replicas.map((client) => client.isReady()))).every(Boolean),
          { timeoutMs: 10_000, description: 'every replica to be ready' },
        );
        figures.push(
          `old master replicating from the new one, every replica ready: ${(performance.now() - failoverAtMs).toFixed(0)} ms after the failover command (waited ${(performance.now() - startedAt).toFixed(0)} ms here)`,
        );
        acknowledged = [...new Set(answers.filter((a) => a.status === 204).map((a) => a.token))];
      });

      it('loses no acknowledged revocation: every replica rejects every one and the new master holds its record', async () => {
        const prefix = (apps as TestCluster).prefix;
        const missing: string[] = [];
        for (const [index, token] of acknowledged.entries()) {
          // A logout ends the token's session: the session's record, or the token's had the
          // session ended already (a retried logout).
          const claims = claimsOf(token);
          const keys = [
            `${prefix}:rev:s:${String(claims['sid'])}`,
            `${prefix}:rev:t:${String(claims['jti'])}`,
          ];
          if (Number(await newMaster.command('EXISTS', ...keys)) >= 1) continue;
          const onOld = Number(await oldMaster.command('EXISTS', ...keys)) >= 1 ? 'yes' : 'no';
          missing.push(`#${index} missing (on the old master: ${onOld}); ${lastCalls(token)}`);
        }
        // Every replica must answer "revoked"; anything else (200, 503, …) is listed.
        const notRejected = (
          await inBatches(acknowledged, 8, async (token, index) => {
            const outcomes = await Promise.all(replicas.map((client) => client.check(token)));
            if (outcomes.every((outcome) => outcome === 'revoked')) return [];
            return [`#${index} answers ${outcomes.join('/')}; ${lastCalls(token)}`];
          })
        ).flat();
        figures.push(
          `lost acknowledged revocations: ${missing.length} missing on the new master, ${notRejected.length} not rejected by every replica (of ${acknowledged.length})${[...missing, ...notRejected].map((line) => `\n    ${line}`).join('')}`,
        );
        expect(acknowledged.length).toBeGreaterThanOrEqual(BEFORE);
        expect(missing).toEqual([]);
        expect(notRejected).toEqual([]);
      });

      it('has every replica ready again, connected to the new master only', async () => {
        expect(await Promise.all(replicas.map((client) => client.isReady()))).toEqual([
          true,
          true,
          true,
        ]);
        const onNew = await rescindConnections(newMaster);
        const onOld = await rescindConnections(oldMaster);
        for (const replica of (apps as TestCluster).replicas) {
          expect(onNew).toContain(`rescind-${replica.name}`);
          expect(onNew).toContain(`rescind-sub-${replica.name}`);
        }
        expect(onOld).toEqual([]);
      });

      it(`fans new revocations out within ${FAN_OUT_BUDGET_MS} ms again`, async () => {
        const rejections = await measureFanOut(replicas, await loginMany(replicas, 9, 'after'));
        const summary = summarize(elapsed(rejections));
        figures.push(`propagation ms after the failover: ${formatSummary(summary)}`);
        // The load-proof bound: no request sent after the budget was still accepted.
        expect(acceptedBeyond(rejections, FAN_OUT_BUDGET_MS)).toEqual([]);
        expect(summary.p50).toBeLessThan(FAN_OUT_BUDGET_MS);
      });
    });
  });
});

/** When writes stopped being acknowledged after `sinceMs`, and when the first one was again. */
function writeOutage(
  answers: readonly StreamedLogout[],
  sinceMs: number,
): { firstRefusedMs: number | undefined; writableAgainMs: number | undefined; refused: number } {
  const later = answers
    .filter((a) => a.sentAtMs >= sinceMs)
    .sort((a, b) => a.sentAtMs - b.sentAtMs);
  const refused = later.filter((a) => a.status === 503 || a.status === 0);
  const firstRefusedMs = refused[0]?.sentAtMs;
  const lastRefused = refused[refused.length - 1];
  const writableAgainMs =
    lastRefused === undefined
      ? undefined
      : later.find((a) => a.status === 204 && a.sentAtMs > lastRefused.sentAtMs)?.answeredAtMs;
  return { firstRefusedMs, writableAgainMs, refused: refused.length };
}

function countBy(values: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}
