import type { BlobRef, Message } from './messages/index.js';

// Inputs are what a machine reacts to: decoded messages (already accepted by
// validateMessage), timer firings, and results of the effects it asked for.

/** Sent once when the machine is created (or restored). */
export interface StartInput { readonly type: 'start' }
/** A message accepted on one of the machine's topics. */
export interface MessageInput { readonly type: 'message'; readonly message: Message }
/** A timer set by `setTimer` fired. */
export interface TimerInput { readonly type: 'timer'; readonly id: string }
/** A `fetchBlob` finished (`ok` false: not found, or the hash did not match). */
export interface BlobFetchedInput { readonly type: 'blobFetched'; readonly job: string; readonly ref: BlobRef; readonly ok: boolean }
/** Local training finished. */
export interface TrainedInput {
  readonly type: 'trained';
  readonly job: string;
  readonly round: number;
  readonly ref: BlobRef;
  readonly samples: number;
  readonly loss: number;
  readonly accuracy: number;
}
/** Evaluation finished. */
export interface EvaluatedInput { readonly type: 'evaluated'; readonly job: string; readonly round: number; readonly loss: number; readonly accuracy: number; readonly samples: number }
/** Aggregation finished; `ref.hash` is what consensus compares. */
export interface AggregatedInput { readonly type: 'aggregated'; readonly job: string; readonly round: number; readonly attempt: number; readonly ref: BlobRef }
/** Initial parameters were created and stored. */
export interface InitializedInput { readonly type: 'initialized'; readonly job: string; readonly ref: BlobRef }
/** The data owner answered. */
export interface ConsentInput { readonly type: 'consent'; readonly job: string; readonly given: boolean }
/** The member's data is loaded (and hash-checked). */
export interface DatasetLoadedInput { readonly type: 'datasetLoaded'; readonly job: string; readonly samples: number }
/**
 * Loading the data failed; the member retries on its next heartbeat. For the distributor
 * (`job` = the root), preparing the dataset failed; it retries a bounded number of times (§5.4).
 */
export interface DatasetFailedInput { readonly type: 'datasetFailed'; readonly job: string; readonly reason: string }
/** The distributor's shards and per-leaf-job indexes are stored. */
export interface DatasetPreparedInput { readonly type: 'datasetPrepared'; readonly indexes: Readonly<Record<string, BlobRef>> }
/** A train, evaluate, aggregate or initParams effect failed; the member acts as a straggler. */
export interface TaskFailedInput { readonly type: 'taskFailed'; readonly job: string; readonly task: 'train' | 'evaluate' | 'aggregate' | 'initParams'; readonly round: number; readonly reason: string }

/** Everything a machine reacts to. */
export type Input =
  | StartInput
  | MessageInput
  | TimerInput
  | BlobFetchedInput
  | TrainedInput
  | EvaluatedInput
  | AggregatedInput
  | InitializedInput
  | ConsentInput
  | DatasetLoadedInput
  | DatasetFailedInput
  | DatasetPreparedInput
  | TaskFailedInput;
