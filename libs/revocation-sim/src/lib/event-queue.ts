import { type Milliseconds } from '@rescind/revocation-core';

/** Something that happens at an instant of the global clock. */
export interface SimEvent {
  readonly at: Milliseconds;
  /** Creation order, which breaks ties between events of the same instant. */
  readonly order: number;
  /** The process it runs in: nothing runs in a crashed process, a paused one runs it later. */
  readonly owner: EventOwner | null;
  readonly run: () => void;
  /** Whether promise jobs it starts must run before the next event (false: it starts none). */
  readonly settle: boolean;
}

/** A process whose events the queue holds back (paused) or drops (gone). */
export interface EventOwner {
  readonly alive: boolean;
  readonly paused: boolean;
  /** Keeps an event until the process resumes. */
  defer(event: SimEvent): void;
}

/** A binary min-heap of events by instant, then creation order. */
export class EventQueue {
  private readonly heap: SimEvent[] = [];
  private created = 0;

  get size(): number {
    return this.heap.length;
  }

  /** Adds `run` at instant `at`. */
  add(at: Milliseconds, owner: EventOwner | null, run: () => void, settle = true): void {
    this.push({ at, order: this.created++, owner, run, settle });
  }

  /** The instant of the earliest event, or `Infinity`. */
  peekTime(): Milliseconds {
    return this.heap[0]?.at ?? Infinity;
  }

  /** Removes and returns the earliest event. */
  pop(): SimEvent | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (top === undefined || last === undefined || heap.length === 0) return top;
    heap[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && before(heap[l] as SimEvent, heap[m] as SimEvent)) m = l;
      if (r < heap.length && before(heap[r] as SimEvent, heap[m] as SimEvent)) m = r;
      if (m === i) break;
      [heap[i], heap[m]] = [heap[m] as SimEvent, heap[i] as SimEvent];
      i = m;
    }
    return top;
  }

  private push(event: SimEvent): void {
    const heap = this.heap;
    heap.push(event);
    let i = heap.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(heap[i] as SimEvent, heap[p] as SimEvent)) break;
      [heap[i], heap[p]] = [heap[p] as SimEvent, heap[i] as SimEvent];
      i = p;
    }
  }
}

function before(a: SimEvent, b: SimEvent): boolean {
  return a.at < b.at || (a.at === b.at && a.order < b.order);
}
