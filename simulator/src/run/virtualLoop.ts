import { setImmediate } from 'node:timers';
import { EventQueue } from '@canopy/core/protocol';

/** Why {@link VirtualLoop.run} returned. */
export type LoopEnd = 'idle' | 'until' | 'stopped';

/**
 * An event the loop runs: a function, or an object with `run` (which a caller can reuse, so
 * scheduling it allocates nothing: the shell pools its deliveries this way).
 */
export type LoopEvent = (() => void) | { run(): void };

interface Pending {
  readonly at: number;
  readonly promise: Promise<unknown>;
  done: boolean;
}

/**
 * The discrete-event loop of a simulated run, in virtual milliseconds. Events run in (time,
 * scheduling order) with no wall clock, plus one thing real
 * training needs: a result computed on worker threads is *due* at a virtual time, and the
 * loop waits for it before running any event at or after that time. Waiting never
 * reorders events, so a run is the same whether the threads are fast or slow.
 */
export class VirtualLoop {
  /**
   * Work the loop may do itself while it waits for a held computation (one piece per call;
   * false when there is none), instead of idling: the aggregation threads' queued tasks.
   */
  helper: (() => boolean) | undefined;
  private readonly queue = new EventQueue<LoopEvent>();
  private readonly pending: Pending[] = [];
  private current = 0;
  private stopRequested = false;
  /** Events run so far. */
  eventsRun = 0;

  /** The current virtual time, ms. */
  get now(): number {
    return this.current;
  }

  /** Runs `action` at virtual time `at` (not before now). */
  at(at: number, action: LoopEvent): void {
    this.queue.push(Math.max(at, this.current), action);
  }

  /** Runs `action` after `delay` ms. */
  after(delay: number, action: () => void): void {
    this.at(this.current + Math.max(0, delay), action);
  }

  /** Declares that something due at `at` is still being computed; the loop will not pass `at` until it settles. */
  hold(at: number, promise: Promise<unknown>): void {
    const p: Pending = { at, promise, done: false };
    const settle = () => {
      p.done = true;
    };
    promise.then(settle, settle);
    // Kept sorted by due time, so each event checks the first unsettled hold only: with
    // aggregations on threads hundreds are held at once, and the loop runs millions of events.
    const list = this.pending;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (list[mid]!.at <= at) lo = mid + 1;
      else hi = mid;
    }
    list.splice(lo, 0, p);
  }

  /** Asks {@link run} to return after the current event. */
  stop(): void {
    this.stopRequested = true;
  }

  /**
   * Runs events until none remain, virtual time would pass `until`, or {@link stop} is
   * called. `onBatch` runs about every `batch` events (progress, memory sampling).
   */
  async run({ until = Number.POSITIVE_INFINITY, onBatch, batch = 20_000 }: { until?: number; onBatch?: () => void; batch?: number } = {}): Promise<LoopEnd> {
    this.stopRequested = false;
    let sinceBatch = 0;
    for (;;) {
      if (this.stopRequested) return 'stopped';
      const t = this.queue.peekTime();
      if (t === undefined) {
        if (this.pending.length === 0) return 'idle';
        // Nothing to do but wait for a computation; its result will schedule more.
        await this.waitFor(Number.POSITIVE_INFINITY);
        continue;
      }
      if (t > until) {
        this.current = until;
        return 'until';
      }
      // Synchronous unless a computation due by `t` is unsettled: no await per event.
      if (this.heldUntil(t)) await this.waitFor(t);
      this.current = t;
      const e = this.queue.take()!;
      if (typeof e === 'function') e();
      else e.run();
      this.eventsRun++;
      if (++sinceBatch >= batch) {
        sinceBatch = 0;
        onBatch?.();
        // Let the process breathe (signals, progress output) during long synchronous stretches.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
  }

  // Whether an unsettled computation is due at or before `t`; drops settled ones from the front.
  private heldUntil(t: number): boolean {
    const list = this.pending;
    let settled = 0;
    while (settled < list.length && list[settled]!.done) settled++;
    if (settled > 0) list.splice(0, settled);
    return list.length > 0 && list[0]!.at <= t;
  }

  // Waits until nothing unsettled is due at or before `t`: the earliest unsettled hold first,
  // helping meanwhile. After a piece of help, settlements and threads' answers get a turn.
  private async waitFor(t: number): Promise<void> {
    while (this.heldUntil(t)) {
      if (this.helper?.()) await new Promise<void>((resolve) => setImmediate(resolve));
      else await this.pending[0]!.promise.catch(() => undefined);
    }
  }
}
