import { BadInputError, UnsupportedError } from '../../util/errors.js';
import type { AggregationInput } from '../types.js';
import type { AggregatorSpec } from '../../spec/ml.js';
import type { Aggregator, AggregationResult, AggregatorContext } from './aggregator.js';
import { compareMemberIds } from './inputOrder.js';
import { DpAggregator } from './dpAggregator.js';
import { RobustAggregator } from './robustAggregator.js';
import { StreamingAggregator } from './streamingAggregator.js';
import { JsVectorBackend, type VectorBackend } from './vectorBackend.js';
import { chooseBackendName, WasmVectorBackend } from './wasmBackend.js';

/**
 * Creates the aggregator a job's spec names. `ctx.global` fixes the vector length; the
 * FedOpt family also starts from it and from `ctx.serverState` (fresh state if omitted).
 */
export function createAggregator(spec: AggregatorSpec, ctx: AggregatorContext): Aggregator {
  if (!(ctx.global instanceof Float32Array) || ctx.global.length === 0) {
    throw new BadInputError('aggregation needs the global parameters as a non-empty Float32Array');
  }
  switch (spec.kind) {
    case 'median':
    case 'trimmed-mean':
    case 'krum':
      return new RobustAggregator(spec, ctx);
    case 'fedavg':
    case 'fedavgm':
    case 'fedadam':
    case 'fedyogi':
    case 'fedadagrad':
      return new StreamingAggregator(spec, ctx, createVectorBackend(ctx.global.length, ctx.backend ?? 'auto'));
    case 'dp-fedavg':
      return new DpAggregator(spec, ctx);
    default:
      throw new UnsupportedError(`unknown aggregator '${(spec as { kind: string }).kind}'`);
  }
}

/**
 * Aggregates a whole round at once: sorts the inputs by memberId (so the caller's order
 * does not matter), adds them one by one and finishes. Same result as the streaming API.
 */
export function aggregate(spec: AggregatorSpec, inputs: readonly AggregationInput[], ctx: AggregatorContext): AggregationResult {
  const aggregator = createAggregator(spec, ctx);
  const sorted = [...inputs].sort((a, b) => compareMemberIds(a.memberId, b.memberId));
  for (const input of sorted) aggregator.add(input);
  return aggregator.finish();
}

function createVectorBackend(length: number, choice: 'auto' | 'wasm' | 'js'): VectorBackend {
  const name = choice === 'auto' ? chooseBackendName(length) : choice;
  return name === 'wasm' ? new WasmVectorBackend(length) : new JsVectorBackend(length);
}
