import { type Milliseconds } from '@rescind/revocation-core';
import { type BusSubscriber, DrawKind, type Network } from './network';
import { type ConnectionOwner, SimConnection } from './sim-connection';

/** What the events server does with what the subscription connection reports. */
export interface SubscriptionHandler {
  /** A message on the channel (the raw text Redis delivers). */
  onMessage(message: string): void;
  /** The `SUBSCRIBE` was answered: the subscription is live. */
  onSubscribed(): void;
  /** The connection closed: messages published from now on are lost to it. */
  onLost(): void;
}

/**
 * The subscriber connection of a replica: `SUBSCRIBE` after every (re)connection, then the
 * channel's messages, each delayed, and (until the faults stop) sometimes lost, duplicated or
 * overtaken by a later one. Killing it loses what is in flight.
 */
export class Subscription implements BusSubscriber {
  private readonly connection: SimConnection;
  private generation = 0;
  private lastDeliveryAt: Milliseconds = -Infinity;
  private messages = 0;

  constructor(
    private readonly net: Network,
    private readonly owner: ConnectionOwner,
    private readonly handler: SubscriptionHandler,
  ) {
    this.connection = new SimConnection(net, owner, 2, () => this.subscribe());
  }

  /** Connects and subscribes. */
  start(): void {
    this.connection.connect();
  }

  /** Kills the connection; it reconnects and subscribes again unless the process is gone. */
  kill(reconnect: boolean): void {
    this.generation++;
    this.lastDeliveryAt = -Infinity;
    this.net.unsubscribe(this);
    this.connection.kill(reconnect, () => this.handler.onLost());
  }

  /** @inheritdoc */
  enqueue(message: string): void {
    const { slot, incarnation } = this.owner;
    const n = this.messages++;
    const config = this.net.config;
    if (!this.net.faultsStopped) {
      if (this.net.draw(slot, incarnation, DrawKind.MessageLoss, n) < config.busLoss) return;
      if (this.net.draw(slot, incarnation, DrawKind.MessageDuplicate, n) < config.busDuplication) {
        this.deliver(message, this.delay(n + 0.5));
      }
    }
    this.deliver(message, this.delay(n));
  }

  private delay(n: number): Milliseconds {
    const u = this.net.draw(this.owner.slot, this.owner.incarnation, DrawKind.Message, n * 2);
    return Math.floor(u * u * u * (this.net.config.busDelayMaxMs + 1));
  }

  private deliver(message: string, delay: Milliseconds): void {
    let at = this.net.now + delay;
    if (!this.net.config.busReorder || this.net.faultsStopped) {
      at = Math.max(at, this.lastDeliveryAt);
      this.lastDeliveryAt = at;
    }
    const generation = this.generation;
    this.net.at(at, this.owner, () => {
      if (this.generation === generation) this.handler.onMessage(message);
    });
  }

  private subscribe(): void {
    const generation = this.generation;
    this.connection
      .call('subscribe', () => {
        if (this.generation === generation) this.net.subscribe(this);
      })
      .then(() => {
        if (this.generation === generation) this.handler.onSubscribed();
      })
      .catch(() => undefined);
  }
}
