import { BadInputError } from '../../util/errors.js';
import type { AggregationInput } from '../types.js';
import type { AggregatorSpec } from '../../spec/ml.js';
import type { Aggregator, AggregationResult, AggregatorContext } from './aggregator.js';
import { InputOrder } from './inputOrder.js';
import { applyServerOptimizer, initialServerState, type ServerOptimizerSpec } from './serverOptimizers.js';
import { validateServerState } from './serverState.js';
import type { VectorBackend } from './vectorBackend.js';
import { noInputs } from './noInputs.js';
import { WeightedSum } from './weightedSum.js';

/** Specs whose aggregation streams: a weighted mean, then optionally a server optimiser step. */
export type StreamingSpec = Extract<AggregatorSpec, { kind: 'fedavg' } | ServerOptimizerSpec>;

/**
 * FedAvg and the FedOpt family. Inputs are folded into a running weighted sum a batch at a
 * time and never kept past their batch, so memory is O(P) however many clients submit.
 * Inputs whose values would make the sum non-finite are left out (see WeightedSum).
 * FedAvg returns the weighted mean; the others feed it to their server optimiser.
 */
export class StreamingAggregator implements Aggregator {
  readonly kind: StreamingSpec['kind'];
  readonly length: number;
  private readonly order: InputOrder;
  private readonly sum: WeightedSum;
  // vectors handed out by allocate() and not yet added, by identity
  private readonly issued = new Map<Float32Array, number>();
  private readonly global: Float32Array;
  private readonly serverState: AggregatorContext['serverState'];
  private finished = false;

  constructor(
    private readonly spec: StreamingSpec,
    ctx: AggregatorContext,
    private readonly vectors: VectorBackend,
    batch?: number,
  ) {
    this.kind = spec.kind;
    this.length = ctx.global.length;
    this.global = ctx.global;
    if (spec.kind !== 'fedavg' && ctx.serverState !== undefined) validateServerState(ctx.serverState, spec.kind, this.length);
    this.serverState = ctx.serverState;
    this.order = new InputOrder(this.length);
    this.sum = new WeightedSum(vectors, batch);
  }

  get backend(): 'wasm' | 'js' {
    return this.vectors.name;
  }

  allocate(): Float32Array {
    this.assertOpen();
    const handle = this.vectors.alloc();
    const view = this.vectors.view(handle);
    this.issued.set(view, handle);
    return view;
  }

  add(input: AggregationInput): void {
    this.assertOpen();
    const owned = this.issued.get(input.params);
    if (owned !== undefined) this.issued.delete(input.params);
    try {
      this.order.check(input);
    } catch (err) {
      if (owned !== undefined) this.vectors.free(owned);
      throw err;
    }
    let handle = owned;
    if (handle === undefined) {
      // A vector from elsewhere is copied in: the kernels read only their own memory, and
      // keeping the caller's array would let later writes to it change the aggregate.
      handle = this.vectors.alloc();
      this.vectors.view(handle).set(input.params);
    }
    this.sum.add(handle, input.weight, input.memberId);
    this.order.accept(input);
  }

  finish(): AggregationResult {
    this.assertOpen();
    this.sum.flush();
    if (this.sum.accepted === 0) throw noInputs(this.kind, this.sum.rejected);
    this.finished = true;
    for (const handle of this.issued.values()) this.vectors.free(handle);
    this.issued.clear();
    const inputs = this.sum.accepted;
    const totalWeight = this.sum.totalWeight;
    const rejected = [...this.sum.rejected];
    const avg = this.sum.mean();
    if (this.spec.kind === 'fedavg') return { params: avg, serverState: undefined, inputs, totalWeight, rejected };
    const state = this.serverState ?? initialServerState(this.spec, this.length);
    const { params, serverState } = applyServerOptimizer(this.spec, this.global, avg, state);
    return { params, serverState, inputs, totalWeight, rejected };
  }

  private assertOpen(): void {
    if (this.finished) throw new BadInputError(`this ${this.kind} aggregator has finished; create a new one for the next round`);
  }
}
