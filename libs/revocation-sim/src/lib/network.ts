import { type Milliseconds } from '@rescind/revocation-core';
import { type EventOwner } from './event-queue';
import { type ModelStore } from './model-store';
import { type SimConfig } from './sim-config';

/** Keyed draws: each kind of delivery has its own stream, so deleting a step disturbs few others. */
export enum DrawKind {
  Request = 1,
  Reply = 2,
  Message = 3,
  MessageLoss = 4,
  MessageDuplicate = 5,
  Connect = 6,
}

/** A subscriber the bus delivers to. */
export interface BusSubscriber {
  /** Queues one published message for delivery (or loses it). */
  enqueue(message: string): void;
}

/** What connections and replicas see of the simulated world. */
export interface Network {
  /** The global clock. */
  readonly now: Milliseconds;
  readonly store: ModelStore;
  /** Whether Redis accepts connections. */
  readonly storeUp: boolean;
  readonly config: SimConfig;
  /** After the last fault no message is lost or duplicated. */
  readonly faultsStopped: boolean;
  /**
   * Runs `run` at global instant `at` in `owner`'s process (`null`: in the network); `settle`
   * false when it starts no promise job (the next event may follow at once).
   */
  at(at: Milliseconds, owner: EventOwner | null, run: () => void, settle?: boolean): void;
  /** A number in [0, 1) keyed by who draws it, what for, and the how-manieth draw it is. */
  draw(slot: number, incarnation: number, kind: DrawKind, n: number): number;
  /** Records a line of the run's trace (a no-op unless the run is traced). */
  trace(line: string): void;
  /** Whether the run is traced (callers skip building lines otherwise). */
  readonly tracing: boolean;
  /** The `SUBSCRIBE` took effect at the server. */
  subscribe(subscriber: BusSubscriber): void;
  /** The subscription's connection is gone. */
  unsubscribe(subscriber: BusSubscriber): void;
}
