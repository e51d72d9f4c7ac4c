// Deterministic aggregation of parameter vectors: FedAvg, the FedOpt family, and the
// Byzantine-robust median, trimmed mean and (Multi-)Krum. See arithmetic.ts for the
// arithmetic that makes every worker's result bit-identical.
export type { Aggregator, AggregationResult, AggregatorContext, RejectedInput, RejectionReason } from './aggregator.js';
export { aggregate, createAggregator } from './createAggregator.js';
export { compareMemberIds } from './inputOrder.js';
export {
  decodeServerState,
  encodeServerState,
  validateServerState,
  type ServerOptimizerKind,
  type ServerState,
} from './serverState.js';
export { applyServerOptimizer, initialServerState, type ServerOptimizerSpec, type ServerUpdate } from './serverOptimizers.js';
export { coordinateMedian } from './median.js';
export { trimmedMean } from './trimmedMean.js';
export { krum, krumSelect, type KrumSelection } from './krum.js';
export { wasmBackendAvailable } from './wasmBackend.js';
export { benchAggregate, type AggregateBenchOptions, type AggregateBenchResult } from './bench.js';
