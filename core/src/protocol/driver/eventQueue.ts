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
    h.push(item);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  /** Removes and returns the earliest event. */
  pop(): Scheduled<E> | undefined {
    const h = this.heap;
    if (h.length === 0) return undefined;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l]!, h[m]!)) m = l;
        if (r < h.length && before(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}

function before<E>(a: Scheduled<E>, b: Scheduled<E>): boolean {
  return a.at < b.at || (a.at === b.at && a.order < b.order);
}
