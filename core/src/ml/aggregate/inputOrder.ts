import { BadInputError } from '../../util/errors.js';
import type { AggregationInput } from '../types.js';

// Weights are sample counts; 2^53 keeps their binary64 sum exact.
const MAX_WEIGHT = 2 ** 53;

/**
 * Orders member ids as aggregation requires: by UTF-16 code units, the order of `<` on
 * strings, which every JavaScript engine agrees on. {@link aggregate} sorts with it.
 */
export function compareMemberIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Checks the cheap, structural rules of one aggregation input against the inputs before
 * it: member ids strictly ascending (which also rules out duplicates), the parameter
 * vector's type and length, and a usable weight. The values themselves are checked by the
 * aggregators while they read them. Throws BadInputError and remembers nothing on failure.
 */
export class InputOrder {
  private last: string | undefined;

  constructor(
    /** Parameters per vector (the global model's length). */
    readonly length: number,
  ) {}

  /** Throws BadInputError if `input` may not follow the inputs accepted so far. */
  check(input: AggregationInput): void {
    const { memberId, params, weight } = input;
    if (typeof memberId !== 'string' || memberId.length === 0) {
      throw new BadInputError(`aggregation input has no memberId; every submission must name its member`);
    }
    if (this.last !== undefined) {
      if (memberId === this.last) {
        throw new BadInputError(`member '${memberId}' submitted twice; each member contributes one input per aggregation`);
      }
      if (memberId < this.last) {
        throw new BadInputError(
          `input from member '${memberId}' arrived after '${this.last}': add inputs in ascending memberId order (aggregate() sorts them)`,
        );
      }
    }
    if (!(params instanceof Float32Array)) {
      throw new BadInputError(`params of member '${memberId}' must be a Float32Array`);
    }
    if (params.length !== this.length) {
      throw new BadInputError(
        `params of member '${memberId}' have ${params.length} values but the global model has ${this.length}; was it trained on another model?`,
      );
    }
    if (typeof weight !== 'number' || !(Math.fround(weight) > 0) || !(weight <= MAX_WEIGHT)) {
      throw new BadInputError(`weight of member '${memberId}' must be a positive finite sample count up to 2^53, got ${String(weight)}`);
    }
  }

  /** Records that `input` (already checked) was accepted. */
  accept(input: AggregationInput): void {
    this.last = input.memberId;
  }
}
