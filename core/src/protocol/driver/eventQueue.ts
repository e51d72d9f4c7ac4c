// A min-heap of timed events for the in-memory driver (and any discrete-event shell):
// ordered by time, then by insertion, so equal-time events run in a deterministic order.

const INITIAL_CAPACITY = 1024;

/**
 * A deterministic priority queue of timed events.
 *
 * The heap keeps its keys in typed arrays (times, insertion orders) beside a plain array of
 * events, rather than one object per entry: a sift then compares numbers that sit next to
 * one another in memory instead of chasing a pointer per comparison. The simulator holds
 * tens of thousands of pending events and runs millions, and with one object per entry the
 * heap's comparisons were mostly cache misses.
 */
export class EventQueue<E> {
  private times = new Float64Array(INITIAL_CAPACITY);
  // Insertion counters as doubles: exact to 2^53, where an Int32 would wrap.
  private orders = new Float64Array(INITIAL_CAPACITY);
  private readonly events: (E | undefined)[] = [];
  private count = 0;
  private counter = 0;

  /** Number of pending events. */
  get size(): number {
    return this.count;
  }

  /** Time of the earliest event, or undefined when empty. */
  peekTime(): number | undefined {
    return this.count === 0 ? undefined : this.times[0];
  }

  /** Schedules an event. */
  push(at: number, event: E): void {
    // A NaN time would silently corrupt the heap order; fail where the bad time is made.
    if (!Number.isFinite(at)) throw new RangeError(`event time must be finite, got ${at}`);
    if (this.count === this.times.length) this.grow();
    const order = this.counter++;
    const t = this.times;
    const o = this.orders;
    const ev = this.events;
    // Sift up by moving parents into the hole (no swaps). The new item has the highest
    // order, so an equal-time parent stays above it.
    let i = this.count++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (t[p]! <= at) break;
      t[i] = t[p]!;
      o[i] = o[p]!;
      ev[i] = ev[p];
      i = p;
    }
    t[i] = at;
    o[i] = order;
    ev[i] = event;
  }

  /**
   * Removes the earliest event and returns it ({@link peekTime} tells its time first), or
   * undefined when empty. No entry object is made: shells run millions of events.
   */
  take(): E | undefined {
    if (this.count === 0) return undefined;
    const t = this.times;
    const o = this.orders;
    const ev = this.events;
    const top = ev[0];
    const n = --this.count;
    if (n > 0) {
      // Sift the last item down from the root, moving the earlier child into the hole.
      const lastAt = t[n]!;
      const lastOrder = o[n]!;
      const last = ev[n];
      let i = 0;
      for (;;) {
        let c = 2 * i + 1;
        if (c >= n) break;
        const d = c + 1;
        if (d < n && (t[d]! < t[c]! || (t[d] === t[c] && o[d]! < o[c]!))) c = d;
        if (!(t[c]! < lastAt || (t[c] === lastAt && o[c]! < lastOrder))) break;
        t[i] = t[c]!;
        o[i] = o[c]!;
        ev[i] = ev[c];
        i = c;
      }
      t[i] = lastAt;
      o[i] = lastOrder;
      ev[i] = last;
    }
    // Let go of the moved event so the queue does not keep it alive.
    ev[n] = undefined;
    return top;
  }

  private grow(): void {
    const times = new Float64Array(this.times.length * 2);
    times.set(this.times);
    this.times = times;
    const orders = new Float64Array(this.orders.length * 2);
    orders.set(this.orders);
    this.orders = orders;
  }
}
