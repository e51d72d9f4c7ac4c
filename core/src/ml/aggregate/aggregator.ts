import type { AggregationInput } from '../types.js';
import type { AggregatorKind } from '../specs.js';
import type { ServerState } from './serverState.js';

/** The outcome of one aggregation. */
export interface AggregationResult {
  /** The new global parameters. */
  readonly params: Float32Array;
  /** State for the next round (stateful server optimisers only). */
  readonly serverState: ServerState | undefined;
  /** How many inputs were aggregated. */
  readonly inputs: number;
  /** Σ of the accepted inputs' weights (each rounded to float32), e.g. the samples underneath. */
  readonly totalWeight: number;
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
   * whether add succeeds or throws, the vector belongs to the aggregator again; do not keep it.
   * Vectors allocated but never added are released with the aggregator.
   */
  allocate(): Float32Array;
  /**
   * Adds one input. Throws BadInputError, leaving the aggregator as it was, if the input is
   * out of memberId order, a duplicate, the wrong length, has a weight that is not a positive
   * finite count, or holds NaN/Infinity (or overflows float32 when weighted).
   */
  add(input: AggregationInput): void;
  /** The aggregate. Throws BadInputError if there are too few inputs. Ends the aggregator. */
  finish(): AggregationResult;
}
