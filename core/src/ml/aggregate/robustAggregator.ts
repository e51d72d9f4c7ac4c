import { BadInputError } from '../../util/errors.js';
import type { AggregationInput } from '../types.js';
import type { AggregatorSpec } from '../../spec/ml.js';
import type { Aggregator, AggregationResult, AggregatorContext, RejectedInput } from './aggregator.js';
import { firstNonFinite } from './arithmetic.js';
import { InputOrder } from './inputOrder.js';
import { krum } from './krum.js';
import { noInputs } from './noInputs.js';
import { coordinateMedian } from './median.js';
import { trimmedMean } from './trimmedMean.js';

/** Specs of the Byzantine-robust aggregators. */
export type RobustSpec = Extract<AggregatorSpec, { kind: 'median' | 'trimmed-mean' | 'krum' }>;

/**
 * Median, trimmed mean and Krum. Each needs every input at once, so this keeps them all:
 * O(N·P) memory (Krum also takes O(N²·P) time). Inputs are copied unless they came from
 * allocate(), so later writes by the caller cannot change the aggregate. Weights are
 * checked like everywhere else but do not influence the result (see each aggregator).
 * A vector holding NaN/±Infinity is left out and reported in `rejected` (reason
 * `non-finite`), as the streaming kinds do; these kinds select values or sum them in binary64,
 * so no single input can be blamed for an overflow.
 */
export class RobustAggregator implements Aggregator {
  readonly kind: RobustSpec['kind'];
  readonly length: number;
  readonly backend = 'js';
  private readonly order: InputOrder;
  private readonly issued = new Set<Float32Array>();
  private vectors: Float32Array[] = [];
  private weightSum = 0;
  private readonly rejected: RejectedInput[] = [];
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
    this.order.accept(input);
    // Checked here rather than in finish: these kinds keep every vector anyway, so nothing
    // is saved by waiting, and a rejected vector is not held. Reported like the streaming kinds.
    if (firstNonFinite(input.params) >= 0) {
      this.rejected.push({ memberId: input.memberId, reason: 'non-finite' });
      return;
    }
    this.vectors.push(owned ? input.params : input.params.slice());
    this.weightSum += Math.fround(input.weight);
  }

  finish(): AggregationResult {
    this.assertOpen();
    const n = this.vectors.length;
    if (n === 0) throw noInputs(this.kind, this.rejected);
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
    return { params, serverState: undefined, inputs: n, totalWeight: this.weightSum, rejected: [...this.rejected] };
  }

  private assertOpen(): void {
    if (this.finished) throw new BadInputError(`this ${this.kind} aggregator has finished; create a new one for the next round`);
  }
}
