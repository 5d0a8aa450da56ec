import { mkdir, rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { type FaultKind } from './fault-kind';
import { type NemesisStack, type StackReplica } from './nemesis-stack';
import {
  awaitSubscriptions,
  currentPubsubLimit,
  floodUntilDropped,
  TINY_PUBSUB_LIMIT,
} from './subscriber-cut';

/** One fault as the nemesis drew it. */
export interface FaultPlan {
  readonly id: number;
  readonly kind: FaultKind;
  /** The replica it acts on (for the kinds that act on one). */
  readonly replica: number;
  /** Another replica, through which an output-buffer cut floods the channel. */
  readonly other: number;
  /** How long the fault is held before it is healed. */
  readonly holdMs: number;
  /** `CLIENT KILL TYPE pubsub` repetitions and the pause between them. */
  readonly kills: number;
  readonly killSpacingMs: number;
}

/** How long a replica may take to hold a subscription before an output-buffer cut. */
const SUBSCRIBED_TIMEOUT_MS = 30_000;

/** Injects and heals each kind of fault on a {@link NemesisStack}. */
export class FaultInjector {
  private pubsubLimit: string | undefined;

  constructor(private readonly stack: NemesisStack) {}

  /** Injects the fault; resolves with what it did, in words. */
  async inject(plan: FaultPlan): Promise<string> {
    const { stack } = this;
    const replica = this.replica(plan.replica);
    switch (plan.kind) {
      case 'pause-replica':
        replica.process.process.signal('SIGSTOP');
        return `${replica.label} frozen`;
      case 'kill-replica':
        await replica.process.kill();
        return `${replica.label} killed`;
      case 'kill-worker':
        await stack.worker.kill();
        return 'worker killed';
      case 'redis-kill':
        await stack.redis.kill();
        return 'redis-server killed';
      case 'redis-wipe':
        await stack.redis.kill();
        await rm(stack.redis.dir, { recursive: true, force: true });
        await mkdir(stack.redis.dir);
        return 'redis-server killed, its data directory emptied';
      case 'pubsub-kill': {
        const killed: string[] = [];
        for (let kill = 0; kill < plan.kills; kill++) {
          if (kill > 0) await sleep(plan.killSpacingMs);
          killed.push(await stack.redis.cli('CLIENT', 'KILL', 'TYPE', 'pubsub'));
        }
        return `CLIENT KILL TYPE pubsub ${plan.kills}× ${plan.killSpacingMs} ms apart: ${killed.join('+')} connections`;
      }
      case 'output-buffer-cut':
        return this.cutSubscriber(plan, replica);
      case 'partition-reset':
        replica.proxy.reset();
        return `${replica.label} cut off from Redis (connections reset)`;
      case 'partition-blackhole':
        replica.proxy.blackhole();
        return `${replica.label} cut off from Redis (bytes held)`;
    }
  }

  /** Heals the fault; resolves with what it did, in words. */
  async heal(plan: FaultPlan): Promise<string> {
    const { stack } = this;
    const replica = this.replica(plan.replica);
    switch (plan.kind) {
      case 'pause-replica':
        replica.process.process.signal('SIGCONT');
        return `${replica.label} resumed`;
      case 'kill-replica':
        await replica.process.restart();
        return `${replica.label} restarted`;
      case 'kill-worker':
        await stack.worker.restart();
        return 'worker restarted';
      case 'redis-kill':
      case 'redis-wipe':
        await stack.redis.restart();
        return plan.kind === 'redis-kill'
          ? 'redis-server restarted from its AOF'
          : 'redis-server restarted empty';
      case 'pubsub-kill':
        return 'nothing to heal';
      case 'output-buffer-cut':
        if (this.pubsubLimit !== undefined) {
          await stack.redis.cli('CONFIG', 'SET', 'client-output-buffer-limit', this.pubsubLimit);
        }
        replica.proxy.heal();
        replica.process.process.signal('SIGCONT');
        return `limit restored (${this.pubsubLimit ?? 'unchanged'}), ${replica.label} resumed`;
      case 'partition-reset':
      case 'partition-blackhole':
        replica.proxy.heal();
        return `${replica.label} reconnected`;
    }
  }

  // A frozen process reads nothing, so its proxy holds its bytes too, as its own socket would:
  // Redis's output buffer for the subscription then grows past the tiny limit.
  private async cutSubscriber(plan: FaultPlan, replica: StackReplica): Promise<string> {
    const { stack } = this;
    const via = this.replica(plan.other);
    this.pubsubLimit = undefined;
    const subscriptions = await awaitSubscriptions(stack.redis, replica, SUBSCRIBED_TIMEOUT_MS);
    this.pubsubLimit = await currentPubsubLimit(stack.redis);
    await stack.redis.cli('CONFIG', 'SET', 'client-output-buffer-limit', TINY_PUBSUB_LIMIT);
    replica.process.process.signal('SIGSTOP');
    replica.proxy.blackhole();
    const cut = await floodUntilDropped(
      stack.redis,
      subscriptions,
      via,
      stack.adminKey,
      String(plan.id),
    );
    return `${replica.label} frozen, ${cut.flooded.toLocaleString('en-US')} revocations flooded through ${via.label}; subscription dropped: ${cut.dropped}`;
  }

  private replica(index: number): StackReplica {
    const replica = this.stack.replicas[index % this.stack.replicas.length];
    if (replica === undefined) throw new Error('the stack has no replica');
    return replica;
  }
}
