import type { AggregatorSpec, DatasetSpec, ModelSpec, PartitionSpec, TrainSpec } from '../spec/ml.js';
import type { RejectedInput } from '../ml/aggregate/aggregator.js';

// The tasks a node hands to its compute threads (and, for training, to a GPU window): each
// kind's payload and result. Parameters cross the boundary as encoded blobs (encodeParams),
// the same bytes that are stored and hashed, so what a thread returns can be stored and
// compared by hash without another conversion.

/** Where a member's data comes from: a dataset chunk's bytes, or a local source split the manifest's way. */
export type DataSource =
  | { readonly kind: 'chunk'; readonly bytes: Uint8Array }
  | { readonly kind: 'local'; readonly dataset: DatasetSpec; readonly partition: PartitionSpec; readonly seed: number; readonly shard: { readonly index: number; readonly of: number } };

/** Payloads and results of each task kind. */
export interface MlTasks {
  loadData: { payload: { key: string; source: DataSource }; result: { train: number; test: number; name: string } };
  initParams: { payload: { model: ModelSpec; seed: number }; result: { params: Uint8Array } };
  train: {
    payload: { key: string; model: ModelSpec; train: TrainSpec; global: Uint8Array; seed: number };
    result: { params: Uint8Array; samples: number; loss: number; accuracy: number; samplesPerSec: number; backend: string };
  };
  evaluate: { payload: { key: string; model: ModelSpec; params: Uint8Array }; result: { loss: number; accuracy: number; samples: number } };
  aggregate: {
    payload: { stateKey: string; model: ModelSpec; aggregator: AggregatorSpec; base: Uint8Array; inputs: Array<{ memberId: string; params: Uint8Array; weight: number }> };
    /** `rejected`: inputs left out for NaN/Infinity or float32 overflow, in memberId order (see AggregationResult). */
    result: { params: Uint8Array; inputs: number; totalWeight: number; rejected: RejectedInput[] };
  };
  dropData: { payload: { key: string }; result: { dropped: boolean } };
}
