import { BadInputError } from '../../util/errors.js';
import type { RejectedInput } from './aggregator.js';

/** The error of finishing an aggregation that accepted no input, naming any that were rejected. */
export function noInputs(kind: string, rejected: readonly RejectedInput[]): BadInputError {
  if (rejected.length === 0) return new BadInputError(`${kind} has no inputs to aggregate; wait for at least one submission`);
  const shown = rejected
    .slice(0, 5)
    .map((r) => `'${r.memberId}' (${r.reason})`)
    .join(', ');
  const more = rejected.length > 5 ? ` and ${rejected.length - 5} more` : '';
  return new BadInputError(
    `${kind} has no usable inputs: all ${rejected.length} were rejected for NaN/Infinity or float32 overflow in their params: ${shown}${more}; wait for more submissions`,
  );
}
