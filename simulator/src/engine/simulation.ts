import { EventQueue } from './eventQueue.js';

/** Why a simulation's run loop stopped. */
export type StopReason = 'idle' | 'until' | 'stopped' | 'maxEvents';

/**
 * A discrete-event simulation in virtual time (milliseconds). Actions are scheduled at a
 * time and run in (time, scheduling order); running an action may schedule more. Nothing
 * here reads the wall clock, so the same schedule always replays identically.
 */
export class Simulation {
  private readonly queue = new EventQueue<() => void>();
  private current = 0;
  private stopRequested = false;
  /** Events run so far. */
  eventsRun = 0;

  /** The current virtual time, ms. */
  get now(): number {
    return this.current;
  }

  /** Pending events. */
  get pending(): number {
    return this.queue.size;
  }

  /** Runs `action` at virtual time `at` (not before now). */
  at(at: number, action: () => void): void {
    this.queue.push(Math.max(at, this.current), action);
  }

  /** Runs `action` after `delay` ms of virtual time. */
  after(delay: number, action: () => void): void {
    this.at(this.current + Math.max(0, delay), action);
  }

  /** Asks the run loop to stop after the current event. */
  stop(): void {
    this.stopRequested = true;
  }

  /** Runs events until none remain, `until` is passed, `stop()` is called, or `maxEvents` ran. */
  run({ until = Number.POSITIVE_INFINITY, maxEvents = Number.POSITIVE_INFINITY }: { until?: number; maxEvents?: number } = {}): StopReason {
    this.stopRequested = false;
    let ran = 0;
    for (;;) {
      if (this.stopRequested) return 'stopped';
      if (ran >= maxEvents) return 'maxEvents';
      const t = this.queue.peekTime();
      if (t === undefined) return 'idle';
      if (t > until) {
        this.current = until;
        return 'until';
      }
      const ev = this.queue.pop()!;
      this.current = ev.at;
      ev.value();
      ran++;
      this.eventsRun++;
    }
  }
}
