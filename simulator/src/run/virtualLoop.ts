import { setImmediate } from 'node:timers';
import { EventQueue } from '@canopy/core/protocol';

/** Why {@link VirtualLoop.run} returned. */
export type LoopEnd = 'idle' | 'until' | 'stopped';

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
  private readonly queue = new EventQueue<() => void>();
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
  at(at: number, action: () => void): void {
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
    this.pending.push(p);
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
      if (this.pending.length > 0) await this.waitFor(t);
      const ev = this.queue.pop()!;
      this.current = ev.at;
      ev.event();
      this.eventsRun++;
      if (++sinceBatch >= batch) {
        sinceBatch = 0;
        onBatch?.();
        // Let the process breathe (signals, progress output) during long synchronous stretches.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
  }

  // Waits until nothing unsettled is due at or before `t`.
  private async waitFor(t: number): Promise<void> {
    for (;;) {
      let first: Pending | undefined;
      for (let i = this.pending.length - 1; i >= 0; i--) {
        const p = this.pending[i]!;
        if (p.done) {
          this.pending.splice(i, 1);
          continue;
        }
        if (p.at <= t && (!first || p.at < first.at)) first = p;
      }
      if (!first) return;
      await first.promise.catch(() => undefined);
    }
  }
}
