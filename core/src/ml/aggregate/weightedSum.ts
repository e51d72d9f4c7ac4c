import { BadInputError } from '../../util/errors.js';
import type { VectorBackend } from './vectorBackend.js';

// How many accumulator-sized buffers the rollback window may hold at most, by bytes and count.
const WINDOW_BYTES = 256 * 1024 * 1024;
const MAX_WINDOW = 32;

/** The rollback window for vectors of `length` floats: up to 32 vectors, within 256 MiB. */
export function defaultWindow(length: number): number {
  return Math.max(1, Math.min(MAX_WINDOW, Math.floor(WINDOW_BYTES / Math.max(4, length * 4))));
}

/**
 * A streaming weighted sum, acc = Σ fround(w_k · x_k) in input order (arithmetic.ts), that
 * reads each input once and can still reject an input after reading it.
 *
 * Why the window: a single pass both checks an input (every result finite) and adds it in
 * place, because a separate checking pass would read the input twice and halve throughput on
 * this memory-bound loop. When the check fails, the damaged accumulator is rebuilt exactly
 * from a snapshot plus the inputs accepted since: every `window` inputs, the first one is
 * added out of place, leaving the previous accumulator untouched as the snapshot (the first
 * window rebuilds from zeros instead), and the inputs of the current window are kept (in
 * vectors this sum owns) until the next snapshot.
 * Memory is therefore (2 + window) vectors, O(P) whatever the number of inputs, and the
 * result is bit-identical to never having seen the rejected input.
 */
export class WeightedSum {
  private current: number;
  private snapshot: number;
  private readonly kept: { handle: number; weight: number }[] = [];
  private weightSum = 0;
  private count = 0;
  private readonly output: Float32Array;
  // true while the accumulator is rebuilt from zeros rather than from `snapshot`
  private fromZero = true;

  constructor(
    readonly backend: VectorBackend,
    /** Inputs per snapshot (≥ 1). */
    readonly window: number = defaultWindow(backend.length),
  ) {
    if (!(window >= 1)) throw new RangeError(`window must be ≥ 1, got ${window}`);
    this.current = backend.alloc();
    this.snapshot = backend.alloc();
    // Touch every page now: fresh memory faults on first write, which on this VM cost a
    // third of a 100-client aggregation when it happened inside add() and finish().
    backend.view(this.current).fill(0);
    backend.view(this.snapshot).fill(0);
    this.output = new Float32Array(backend.length).fill(0);
  }

  /** Inputs added so far. */
  get inputs(): number {
    return this.count;
  }

  /** Σ fround(weight) over the inputs added so far, in binary64. */
  get totalWeight(): number {
    return this.weightSum;
  }

  /**
   * Adds the vector `handle` (which this sum now owns) with `weight`. On success the sum keeps
   * the vector until it is no longer needed for rollback; on failure it frees it, leaves the
   * sum as it was, and throws BadInputError naming `memberId`.
   */
  add(handle: number, weight: number, memberId: string): void {
    const w = Math.fround(weight);
    const b = this.backend;
    // The first window needs no snapshot (it rebuilds from zeros), so it starts in place too.
    if (this.count > 0 && this.kept.length >= this.window) {
      // First input of a window: add out of place, so `current` survives as the new snapshot.
      if (!b.axpy(this.snapshot, this.current, handle, w)) {
        b.free(handle);
        throw nonFinite(memberId);
      }
      for (const k of this.kept) b.free(k.handle);
      this.kept.length = 0;
      [this.current, this.snapshot] = [this.snapshot, this.current];
      this.fromZero = false;
    } else if (!b.axpy(this.current, this.current, handle, w)) {
      this.rebuild();
      b.free(handle);
      throw nonFinite(memberId);
    }
    this.kept.push({ handle, weight: w });
    this.weightSum += w;
    this.count++;
  }

  /** The weighted mean, Σ w_k x_k / fround(Σ w_k), as a new array. Ends the sum's use. */
  mean(): Float32Array {
    this.backend.divide(this.current, this.current, Math.fround(this.weightSum));
    this.output.set(this.backend.view(this.current));
    this.release();
    return this.output;
  }

  /** Frees every vector the sum holds. */
  release(): void {
    for (const k of this.kept) this.backend.free(k.handle);
    this.kept.length = 0;
    this.backend.free(this.current);
    this.backend.free(this.snapshot);
  }

  // Replays the kept inputs onto the snapshot with the same ops in the same order, which
  // reproduces the accumulator exactly as it was before the failed in-place add.
  private rebuild(): void {
    const b = this.backend;
    let ok = true;
    let rest = this.kept;
    if (this.fromZero) {
      b.view(this.current).fill(0);
    } else {
      const [first, ...others] = this.kept;
      if (first === undefined) throw new Error('WeightedSum: in-place add without a window start');
      ok = b.axpy(this.current, this.snapshot, first.handle, first.weight);
      rest = others;
    }
    for (const k of rest) ok = b.axpy(this.current, this.current, k.handle, k.weight) && ok;
    if (!ok) throw new Error('WeightedSum: replaying accepted inputs gave a different result');
  }
}

function nonFinite(memberId: string): BadInputError {
  return new BadInputError(
    `params of member '${memberId}' contain NaN or Infinity, or overflow float32 when weighted; the input was rejected and left out of the aggregate`,
  );
}
