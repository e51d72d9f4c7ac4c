import type { AggregationInput } from '../types.js';
import type { AggregatorKind } from '../../spec/ml.js';
import type { ServerState } from './serverState.js';

/**
 * Why an input's values kept it out of an aggregate:
 * - `non-finite`: the vector holds NaN or ±Infinity;
 * - `overflow`: its values are finite, but weighted and added to the inputs accepted before it
 *   (in memberId order) some coordinate leaves the float32 range.
 */
export type RejectionReason = 'non-finite' | 'overflow';

/** An input that passed `add`'s checks but was left out of the aggregate for its values. */
export interface RejectedInput {
  readonly memberId: string;
  readonly reason: RejectionReason;
}

/** The outcome of one aggregation. */
export interface AggregationResult {
  /** The new global parameters. */
  readonly params: Float32Array;
  /** State for the next round (stateful server optimisers only). */
  readonly serverState: ServerState | undefined;
  /** How many inputs were aggregated (rejected ones not counted). */
  readonly inputs: number;
  /** Σ of the accepted inputs' weights (each rounded to float32), e.g. the samples underneath. */
  readonly totalWeight: number;
  /**
   * The inputs left out for their values, in memberId order; empty normally. The aggregate is
   * bit-identical to one of the other inputs alone, and every worker given the same inputs
   * rejects the same ones for the same reasons, so this list can be compared like the bytes.
   */
  readonly rejected: readonly RejectedInput[];
}

/** What an aggregator needs besides its inputs. */
export interface AggregatorContext {
  /** The global parameters the inputs were trained from; fixes the vector length. */
  readonly global: Float32Array;
  /** The server optimiser's state from the previous round; omitted in round one. */
  readonly serverState?: ServerState;
  /**
   * Arithmetic backend for the streaming kinds: `wasm` (SIMD), `js`, or `auto` (default:
   * wasm where available). All give identical bits; this exists for tests and benchmarks.
   */
  readonly backend?: 'auto' | 'wasm' | 'js';
}

/**
 * Combines the submissions of one round. Add inputs in ascending memberId order, then call
 * finish once. The result is a deterministic function of the inputs (see arithmetic.ts).
 *
 * Checks happen in two places. `add` checks at once everything that needs no pass over the
 * values (order, duplicates, length, weight) and throws for those. The values themselves are
 * checked where they are read anyway: the streaming kinds read them in batches, so a vector
 * holding NaN/±Infinity, or one that overflows float32 when weighted, is found when its batch
 * is summed, then left out bit-exactly and listed in `finish().rejected`. The robust kinds
 * follow the same contract (they check each vector in `add`, but report it the same way), so
 * a caller handles bad values identically whatever the aggregator.
 */
export interface Aggregator {
  readonly kind: AggregatorKind;
  /** Parameters per vector. */
  readonly length: number;
  /** Which arithmetic backend runs the hot loop. */
  readonly backend: 'wasm' | 'js';
  /**
   * A zero-filled vector that `add` accepts without copying: write a member's parameters
   * into it (e.g. decode a blob straight into it), then pass it as `params`. From then on,
   * whether add succeeds or throws, the vector belongs to the aggregator again; do not keep it
   * or write to it (a streaming aggregator may read it only when its batch is summed).
   * Vectors allocated but never added are released with the aggregator.
   */
  allocate(): Float32Array;
  /**
   * Adds one input. Throws BadInputError, leaving the aggregator as it was, if the input is
   * out of memberId order, a duplicate, the wrong length, or has a weight that is not a
   * positive finite count. Does not throw for the values: an input whose values are unusable
   * is left out and reported in `finish().rejected` (its memberId still counts as added, so a
   * second input from that member is a duplicate).
   */
  add(input: AggregationInput): void;
  /**
   * The aggregate of the accepted inputs. Throws BadInputError if there are too few accepted
   * inputs, leaving the aggregator open for more. Otherwise ends the aggregator.
   */
  finish(): AggregationResult;
}
