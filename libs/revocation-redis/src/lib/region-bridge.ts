import { type Clock, systemClock } from '@rescind/revocation-core';
import {
  type BridgePosition,
  type BridgeWrite,
  planBridgeRound,
  planBridgeStart,
  planReread,
  type RereadCause,
  rereadPosition,
  rereadWrite,
} from './bridge-rules';
import {
  type ConnectionLogger,
  describeConnectionError,
  stderrConnectionLogger,
} from './connection-log';
import { defineLuaCommands } from './redis-commands';
import { closeRedisClient, createRedisClient, reconnectDelay } from './redis-connection';
import { type RedisKeys } from './redis-keys';
import { type RedisClient } from './redis-topology';
import { RevocationStore, STORE_COMMANDS } from './revocation-store';

/** What a bridge knows of its link to one peer region, for metrics. */
export interface RegionBridgeStatus {
  /** The peer region's name. */
  readonly peer: string;
  /** Whether the last exchange with the peer (and this region's store) succeeded. */
  readonly linkUp: boolean;
  /** Where the bridge has applied the peer's log up to; `undefined` before it first did. */
  readonly position: BridgePosition | undefined;
  /** Entries the peer had logged that are not applied here, as of the last exchange. */
  readonly lagEntries: number;
  /**
   * How long since the bridge last knew it held everything the peer had logged: 0 while it
   * follows the peer's log live, growing while the link is down or the bridge is behind.
   */
  readonly lagMs: number;
  /** Revocations the bridge recorded here (those already covered here are not counted). */
  readonly appliedTotal: number;
  /** Full re-reads of the peer's live set (no position, new epoch, trimmed log). */
  readonly rereads: number;
}

/** Options of {@link RegionBridge}. */
export interface RegionBridgeOptions {
  /** Log entries, or live revocations of a re-read, read per round trip. @default 500 */
  batchSize?: number;
  /** How long one read of the peer's log waits for new entries (`XREAD BLOCK`). @default 1000 */
  blockMs?: number;
  /** Where the link's changes of state and re-reads are written. @default stderrConnectionLogger */
  logger?: ConnectionLogger;
  /** @default systemClock */
  clock?: Clock;
}

/**
 * Follows one peer region's log and applies what originated there to this region's store,
 * through the same atomic write path as any revocation, marked with the peer as origin and with
 * the reason and actor it was made with (docs/design.md, "Several regions"). Entries that
 * originated elsewhere are stepped over: every region's bridge follows every peer, so each
 * revocation reaches each region once, from its origin, and never echoes back. Applying is
 * idempotent and monotonic (the write path refuses what is already covered), so the bridge
 * applies first and saves its position after: a crash in between only applies a batch again.
 *
 * The position is kept in this region's store with the epoch of the data set it was applied to.
 * Without a position (first start, or this store lost its data), with a peer epoch it has not
 * seen (the peer lost its data), or when the peer trimmed its log past the position, the bridge
 * re-reads the peer's whole live set (as replicas hydrate: "Cheap hydration", "Store loss") and
 * follows the log from the head it read before.
 */
export class RegionBridge {
  private readonly peerRedis: RedisClient;
  private readonly peerStore: RevocationStore;
  private readonly runLocal: ReturnType<typeof defineLuaCommands>;
  private readonly batchSize: number;
  private readonly blockMs: number;
  private readonly logger: ConnectionLogger;
  private readonly clock: Clock;
  private running: Promise<void> | undefined;
  private stopping = false;
  private wake: (() => void) | undefined;
  private linkUp = false;
  private position: BridgePosition | undefined;
  private peerHeadSeq = 0;
  private caughtUp = false;
  private caughtUpAtMs: number;
  private appliedTotal = 0;
  private rereads = 0;
  /** Whether the peer was last seen without a data set (said once, see `waitForPeer`). */
  private peerAbsent = false;

  /**
   * @param peer the peer region's name (its `REGION`) and the URL of its Redis
   * @param local this region's store, which the bridge writes through
   * @param localRedis the client `local` uses; the bridge keeps its positions there
   * @param keys the key names, the same in every region (`KEY_PREFIX`)
   * @param onApplied called with how many revocations a batch recorded here
   */
  constructor(
    readonly peer: { readonly name: string; readonly redisUrl: string },
    private readonly local: RevocationStore,
    private readonly localRedis: RedisClient,
    private readonly keys: RedisKeys,
    options: RegionBridgeOptions = {},
    private readonly onApplied: (count: number) => void = () => undefined,
  ) {
    this.batchSize = options.batchSize ?? 500;
    this.blockMs = options.blockMs ?? 1000;
    this.logger = options.logger ?? stderrConnectionLogger;
    this.clock = options.clock ?? systemClock;
    this.caughtUpAtMs = this.clock.now();
    // Its own connection: the log is read with a blocking XREAD. Fails fast while down (the loop
    // retries with the back-off of every connection), and times out a read a cut link holds.
    this.peerRedis = createRedisClient(
      { kind: 'standalone', url: peer.redisUrl },
      {
        connectionName: `rescind-bridge-${peer.name}`,
        lazyConnect: false,
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        commandTimeout: this.blockMs + 2000,
      },
      this.logger,
      `bridge to region ${peer.name}`,
    );
    this.peerStore = new RevocationStore(this.peerRedis, keys, { clock: this.clock });
    this.runLocal = defineLuaCommands(localRedis, STORE_COMMANDS);
  }

  /** Starts following the peer; idempotent. */
  start(): void {
    this.running ??= this.loop();
  }

  /** Stops following (a read in progress is cut) and closes the connection to the peer. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    this.peerRedis.disconnect();
    await this.running;
    await closeRedisClient(this.peerRedis);
  }

  /** The link's state now. */
  status(): RegionBridgeStatus {
    const now = this.clock.now();
    return {
      peer: this.peer.name,
      linkUp: this.linkUp,
      position: this.position,
      lagEntries: Math.max(0, this.peerHeadSeq - (this.position?.seq ?? 0)),
      lagMs: this.linkUp && this.caughtUp ? 0 : Math.max(0, now - this.caughtUpAtMs),
      appliedTotal: this.appliedTotal,
      rereads: this.rereads,
    };
  }

  private async loop(): Promise<void> {
    let failures = 0;
    // The first connection is not an outage: wait for it (bounded) before the first read.
    if (this.peerRedis.status !== 'ready') {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          this.peerRedis.off('ready', done);
          resolve();
        };
        const timer = setTimeout(done, this.blockMs + 2000);
        this.peerRedis.once('ready', done);
        this.wake = done;
      });
    }
    while (!this.stopping) {
      try {
        await this.round();
        if (failures > 0) this.logger.log(`bridge from region ${this.peer.name}: following again`);
        failures = 0;
        this.linkUp = true;
      } catch (error) {
        if (this.stopping) break;
        if (failures === 0) {
          this.logger.warn(
            `bridge from region ${this.peer.name}: ${describeConnectionError(error)}; ` +
              'retrying at least once a second, logged again once it follows again',
          );
        }
        failures++;
        this.linkUp = false;
        this.caughtUp = false;
        await this.pause(reconnectDelay(failures));
      }
    }
  }

  /**
   * One exchange: a re-read, or one read of the log after the position and its application; what
   * to do is decided by the bridge's rules (`bridge-rules.ts`), this only reads and writes.
   */
  private async round(): Promise<void> {
    const saved = await this.localRedis
      .pipeline()
      .get(this.keys.epoch)
      .hgetall(this.keys.bridgePosition(this.peer.name))
      .exec();
    const localEpochNow = replyOf<string | null>(saved, 0);
    const start = planBridgeStart(replyOf<Record<string, string>>(saved, 1), localEpochNow);
    if (start.kind === 'reread') return this.reread(start.cause);
    const { localEpoch, position } = start;
    this.position = position;
    const read = await this.peerRedis
      .pipeline()
      .get(this.keys.epoch)
      .get(this.keys.seq)
      .xread(
        'COUNT',
        this.batchSize,
        'BLOCK',
        this.blockMs,
        'STREAMS',
        this.keys.log,
        position.logId,
      )
      .exec();
    const peerEpoch = replyOf<string | null>(read, 0);
    this.peerHeadSeq = Number(replyOf<string | null>(read, 1) ?? 0);
    const streams = replyOf<[string, [string, string[]][]][] | null>(read, 2);
    const plan = planBridgeRound({
      position,
      peerEpoch,
      peerHeadSeq: this.peerHeadSeq,
      entries: streams?.[0]?.[1] ?? [],
      batchSize: this.batchSize,
      peerName: this.peer.name,
    });
    if (plan.kind !== 'wait-for-peer') this.peerAbsent = false;
    switch (plan.kind) {
      // No data set there: nothing to follow until one has; its new epoch then brings a re-read.
      // (The read blocked already: no pause.)
      case 'wait-for-peer':
        this.waitForPeer();
        return;
      case 'reread':
        return this.reread(plan.cause);
      case 'caught-up':
        this.markCaughtUp();
        return;
      case 'apply':
        // Applied first, saved after: a crash in between only applies the batch again.
        await this.settle(plan.toApply.map((write) => this.apply(write)));
        await this.save(localEpoch, plan.next);
        this.peerHeadSeq = Math.max(this.peerHeadSeq, plan.next.seq);
        if (plan.caughtUp) this.markCaughtUp();
        else this.caughtUp = false;
    }
  }

  /**
   * Reads the peer's whole live set into this store, then saves the head read before it as the
   * position: whatever the peer logs meanwhile is after that head and is applied from the log.
   */
  private async reread(cause: RereadCause): Promise<void> {
    this.caughtUp = false;
    if (planReread(await this.peerRedis.get(this.keys.epoch)) === 'wait-for-peer') {
      this.waitForPeer();
      return this.pause(this.blockMs);
    }
    this.peerAbsent = false;
    // This store's data set first (created if it has none), so the position is saved against it.
    const { epoch: localEpoch } = await this.local.readHead();
    // The peer has a data set: reading its head creates none there.
    const head = await this.peerStore.readHead();
    this.logger.log(
      `bridge from region ${this.peer.name}: re-reading its live revocations (${cause})`,
    );
    this.rereads++;
    let after: Parameters<RevocationStore['list']>[1];
    for (;;) {
      const page = await this.peerStore.list(this.batchSize, after);
      // Every revocation the peer holds, whatever its origin: the union is what both must hold,
      // and the write path refuses what is covered here already, so nothing loops.
      await this.settle(page.items.map((held) => this.apply(rereadWrite(held, this.peer.name))));
      if (page.next === undefined) break;
      after = page.next;
    }
    await this.save(localEpoch, rereadPosition(head));
    this.peerHeadSeq = head.seq;
  }

  private async apply({ revocation, audit }: BridgeWrite): Promise<boolean> {
    return (await this.local.revoke(revocation, audit)) !== null;
  }

  /** Awaits every write, counts those that recorded something, and throws the first failure. */
  private async settle(writes: readonly Promise<unknown>[]): Promise<void> {
    const results = await Promise.allSettled(writes);
    const recorded = results.filter((r) => r.status === 'fulfilled' && r.value === true).length;
    if (recorded > 0) {
      this.appliedTotal += recorded;
      this.onApplied(recorded);
    }
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
  }

  /** Saves `position` unless this store's data set changed since `localEpoch` was read. */
  private async save(localEpoch: string, position: BridgePosition): Promise<void> {
    await this.runLocal(
      'rescindSaveBridgePosition',
      [this.keys.epoch, this.keys.bridgePosition(this.peer.name)],
      [localEpoch, position.epoch, position.seq, position.logId],
    );
    this.position = position;
  }

  /**
   * The peer holds no data set under this `KEY_PREFIX`: nothing to follow, and the lag grows
   * (what it revoked is unknown here). Said once until it holds one.
   */
  private waitForPeer(): void {
    this.caughtUp = false;
    if (!this.peerAbsent) {
      this.peerAbsent = true;
      this.logger.warn(
        `bridge from region ${this.peer.name}: it holds no revocations under KEY_PREFIX ` +
          `"${this.keys.prefix}" (its Redis came back empty and nothing of that region has ` +
          'started since, or it uses another KEY_PREFIX: every region must use the same); ' +
          'waiting for it',
      );
    }
  }

  private markCaughtUp(): void {
    this.caughtUp = true;
    this.caughtUpAtMs = this.clock.now();
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

/** The reply of command `index` of a pipeline, throwing its error. */
function replyOf<T>(results: [Error | null, unknown][] | null, index: number): T {
  const result = results?.[index];
  if (result === undefined) throw new Error('pipeline gave no reply');
  if (result[0] !== null) throw result[0];
  return result[1] as T;
}
