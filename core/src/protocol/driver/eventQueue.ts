// A min-heap of timed events for the in-memory driver (and any discrete-event shell):
// ordered by time, then by insertion, so equal-time events run in a deterministic order.

/** An event scheduled at `at` (ms of virtual time). */
export interface Scheduled<E> {
  readonly at: number;
  readonly order: number;
  readonly event: E;
}

/** A deterministic priority queue of timed events. */
export class EventQueue<E> {
  private readonly heap: Scheduled<E>[] = [];
  private counter = 0;

  /** Number of pending events. */
  get size(): number {
    return this.heap.length;
  }

  /** Time of the earliest event, or undefined when empty. */
  peekTime(): number | undefined {
    return this.heap[0]?.at;
  }

  /** Schedules an event. */
  push(at: number, event: E): void {
    // A NaN time would silently corrupt the heap order; fail where the bad time is made.
    if (!Number.isFinite(at)) throw new RangeError(`event time must be finite, got ${at}`);
    const item = { at, order: this.counter++, event };
    const h = this.heap;
    // Sift up by moving parents into the hole (no swaps): the simulator pushes and pops
    // millions of events per run. The new item has the highest order, so an equal-time
    // parent stays above it.
    let i = h.length;
    h.push(item);
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = h[p]!;
      if (parent.at <= at) break;
      h[i] = parent;
      i = p;
    }
    h[i] = item;
  }

  /** Removes and returns the earliest event. */
  pop(): Scheduled<E> | undefined {
    const h = this.heap;
    if (h.length === 0) return undefined;
    const top = h[0]!;
    const last = h.pop()!;
    const n = h.length;
    if (n > 0) {
      // Sift the last item down from the root, moving the earlier child into the hole.
      let i = 0;
      for (;;) {
        let c = 2 * i + 1;
        if (c >= n) break;
        let child = h[c]!;
        if (c + 1 < n && before(h[c + 1]!, child)) child = h[++c]!;
        if (!before(child, last)) break;
        h[i] = child;
        i = c;
      }
      h[i] = last;
    }
    return top;
  }
}

function before<E>(a: Scheduled<E>, b: Scheduled<E>): boolean {
  return a.at < b.at || (a.at === b.at && a.order < b.order);
}
