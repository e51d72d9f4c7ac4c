import type { RejectedInput } from './aggregator.js';
import { firstNonFinite } from './arithmetic.js';
import type { VectorBackend } from './vectorBackend.js';

// How many queued inputs a batch may hold at most, by bytes and count. Each sweep reads one
// accumulator and writes the other (three vector-sized transfers counting the write's read
// for ownership), so at 16 inputs per sweep that is ~1/5 of the inputs' own traffic; at 8 it
// was ~1/3 and measurably slower than memcpy under load. 16 is also the widest kernel.
const QUEUE_BYTES = 256 * 1024 * 1024;
const MAX_BATCH = 16;

/** Inputs per sweep for vectors of `length` floats: up to 16, within 256 MiB of queued vectors. */
export function defaultBatch(length: number): number {
  return Math.max(1, Math.min(MAX_BATCH, Math.floor(QUEUE_BYTES / Math.max(4, length * 4))));
}

interface Queued {
  readonly handle: number;
  /** fround(weight) */
  readonly weight: number;
  readonly memberId: string;
}

/**
 * A streaming weighted sum, acc = Σ fround(w_k · x_k) in input order (arithmetic.ts), that
 * adds a batch of inputs per sweep over the accumulator and leaves out, bit-exactly, any input
 * whose values make the sum non-finite.
 *
 * Why batches: the loop is memory-bound, and adding one input at a time reads and writes the
 * accumulator once per input; adding `batch` inputs per sweep (each lane in input order, so
 * the bits are those of one sweep per input) does so once per batch. Inputs therefore wait in
 * a queue until a batch is full (or finish), and their values are checked only in the sweep.
 * Why two accumulators: each sweep writes `acc + batch` into the spare one, so `acc` survives
 * as the rollback point. When a sweep's result is not finite, the first failing input is found
 * by re-sweeping prefixes of the batch (binary search; a non-finite partial sum stays
 * non-finite, so failing is monotone in the prefix), rejected, and the batch re-swept without
 * it, until the sweep is finite. That decides inputs exactly as one-at-a-time adding would.
 * Memory is (2 + batch) vectors, O(P) whatever the number of inputs.
 */
export class WeightedSum {
  // Σ of the accepted inputs swept so far
  private acc: number;
  // where the next sweep writes, so that `acc` stays intact until the sweep is known good
  private spare: number;
  private readonly queue: Queued[] = [];
  private readonly rejectedInputs: RejectedInput[] = [];
  private weightSum = 0;
  private count = 0;
  private readonly output: Float32Array;

  constructor(
    readonly backend: VectorBackend,
    /** Inputs per sweep (≥ 1). */
    readonly batch: number = defaultBatch(backend.length),
  ) {
    if (!(Number.isInteger(batch) && batch >= 1)) throw new RangeError(`batch must be a whole number ≥ 1, got ${batch}`);
    this.acc = backend.alloc();
    this.spare = backend.alloc();
    // Touch every page now: fresh memory faults on first write, which on this VM cost a
    // third of a 100-client aggregation when it happened inside add() and finish().
    backend.view(this.acc).fill(0);
    backend.view(this.spare).fill(0);
    this.output = new Float32Array(backend.length).fill(0);
  }

  /** Inputs accepted into the sum so far (queued inputs are not decided yet; see flush). */
  get accepted(): number {
    return this.count;
  }

  /** Σ fround(weight) over the accepted inputs, in binary64, in input order. */
  get totalWeight(): number {
    return this.weightSum;
  }

  /** The inputs left out so far, in input order. */
  get rejected(): readonly RejectedInput[] {
    return this.rejectedInputs;
  }

  /**
   * Queues the vector `handle` (which this sum now owns) with `weight`, sweeping the queue
   * into the sum when it holds a full batch. Never throws for the vector's values: an input
   * that would make the sum non-finite is freed and listed in `rejected`.
   */
  add(handle: number, weight: number, memberId: string): void {
    this.queue.push({ handle, weight: Math.fround(weight), memberId });
    if (this.queue.length >= this.batch) this.flush();
  }

  /** Sweeps every queued input into the sum, deciding each: accepted or rejected. */
  flush(): void {
    const b = this.backend;
    let live = this.queue.splice(0);
    while (live.length > 0 && !this.sweep(live, live.length)) {
      // Some input fails. Prefix `ok` sweeps finite and prefix `bad` does not; narrow them
      // until `bad` = ok + 1: input bad − 1 is the first that fails given those before it.
      let ok = 0;
      let bad = live.length;
      while (bad - ok > 1) {
        const mid = (ok + bad) >> 1;
        if (this.sweep(live, mid)) ok = mid;
        else bad = mid;
      }
      const culprit = live[bad - 1]!;
      const reason = firstNonFinite(b.view(culprit.handle)) >= 0 ? 'non-finite' : 'overflow';
      this.rejectedInputs.push({ memberId: culprit.memberId, reason });
      b.free(culprit.handle);
      live = live.filter((q) => q !== culprit);
    }
    if (live.length === 0) return;
    // A lone first input may turn out to be the only one: keep its exact values for mean(),
    // since fround(fround(w·x)/w) is not always x. Later inputs make mean() overwrite them.
    if (this.count === 0 && live.length === 1) this.output.set(b.view(live[0]!.handle));
    [this.acc, this.spare] = [this.spare, this.acc];
    for (const q of live) {
      this.weightSum += q.weight;
      this.count++;
      b.free(q.handle);
    }
  }

  /** The weighted mean of the accepted inputs, Σ w_k x_k / fround(Σ w_k). Ends the sum's use. */
  mean(): Float32Array {
    this.flush();
    // The mean of one input is that input, bit for bit (arithmetic.ts); flush kept its values.
    if (this.count !== 1) {
      this.backend.divide(this.acc, this.acc, Math.fround(this.weightSum));
      this.output.set(this.backend.view(this.acc));
    }
    this.release();
    return this.output;
  }

  /** Frees every vector the sum holds, queued inputs included. */
  release(): void {
    for (const q of this.queue.splice(0)) this.backend.free(q.handle);
    this.backend.free(this.acc);
    this.backend.free(this.spare);
  }

  // spare = acc + the first `count` of `items`; whether every result is finite
  private sweep(items: readonly Queued[], count: number): boolean {
    const head = items.slice(0, count);
    return this.backend.accumulate(
      this.spare,
      this.acc,
      head.map((q) => q.handle),
      head.map((q) => q.weight),
    );
  }
}
