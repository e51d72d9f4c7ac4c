import { BadInputError } from '../../util/errors.js';
import type { AggregationInput } from '../types.js';
import type { AggregatorSpec } from '../specs.js';
import type { Aggregator, AggregationResult, AggregatorContext } from './aggregator.js';
import { firstNonFinite } from './arithmetic.js';
import { InputOrder } from './inputOrder.js';
import { krum } from './krum.js';
import { coordinateMedian } from './median.js';
import { trimmedMean } from './trimmedMean.js';

/** Specs of the Byzantine-robust aggregators. */
export type RobustSpec = Extract<AggregatorSpec, { kind: 'median' | 'trimmed-mean' | 'krum' }>;

/**
 * Median, trimmed mean and Krum. Each needs every input at once, so this keeps them all:
 * O(N·P) memory (Krum also takes O(N²·P) time). Inputs are copied unless they came from
 * allocate(), so later writes by the caller cannot change the aggregate. Weights are
 * checked like everywhere else but do not influence the result (see each aggregator).
 */
export class RobustAggregator implements Aggregator {
  readonly kind: RobustSpec['kind'];
  readonly length: number;
  readonly backend = 'js';
  private readonly order: InputOrder;
  private readonly issued = new Set<Float32Array>();
  private vectors: Float32Array[] = [];
  private weightSum = 0;
  private finished = false;

  constructor(
    private readonly spec: RobustSpec,
    ctx: AggregatorContext,
  ) {
    this.kind = spec.kind;
    this.length = ctx.global.length;
    this.order = new InputOrder(this.length);
  }

  allocate(): Float32Array {
    this.assertOpen();
    const v = new Float32Array(this.length);
    this.issued.add(v);
    return v;
  }

  add(input: AggregationInput): void {
    this.assertOpen();
    const owned = this.issued.delete(input.params);
    this.order.check(input);
    const bad = firstNonFinite(input.params);
    if (bad >= 0) {
      throw new BadInputError(`params of member '${input.memberId}' hold ${input.params[bad]} at index ${bad}; the input was rejected`);
    }
    this.vectors.push(owned ? input.params : input.params.slice());
    this.weightSum += Math.fround(input.weight);
    this.order.accept(input);
  }

  finish(): AggregationResult {
    this.assertOpen();
    const n = this.vectors.length;
    if (n === 0) throw new BadInputError(`${this.kind} has no inputs to aggregate; wait for at least one submission`);
    const spec = this.spec;
    const params =
      spec.kind === 'median'
        ? coordinateMedian(this.vectors, this.length)
        : spec.kind === 'trimmed-mean'
          ? trimmedMean(this.vectors, this.length, spec.beta)
          : krum(this.vectors, this.length, spec.f, spec.m);
    this.finished = true;
    this.vectors = [];
    this.issued.clear();
    return { params, serverState: undefined, inputs: n, totalWeight: this.weightSum };
  }

  private assertOpen(): void {
    if (this.finished) throw new BadInputError(`this ${this.kind} aggregator has finished; create a new one for the next round`);
  }
}
