import type { AggregatorSpec, DatasetSpec, ModelSpec, PartitionSpec, TrainSpec } from '../spec/ml.js';
import type { MemberId } from './manifest.js';
import type { BlobRef, Message } from './messages/index.js';
import type { Role } from './jobSheet.js';

// Effects are plain data: what a machine asks its shell to do. The shell carries them out
// (over libp2p and tfjs, or in virtual time) and feeds the results back as inputs
// (see inputs.ts). Timer ids are scoped to the machine that sets them.

/** Publish a message on a gossip topic. The shell also delivers it to its own machines on that topic. */
export interface PublishEffect { readonly type: 'publish'; readonly topic: string; readonly message: Message }
/** Fetch a blob by hash (from `from` if given); answered by `blobFetched`. */
export interface FetchBlobEffect { readonly type: 'fetchBlob'; readonly job: string; readonly ref: BlobRef; readonly from?: MemberId; readonly purpose: 'global' }
/** Store a JSON value as a blob under `ref` (its canonical JSON's hash) and serve it. */
export interface StoreBlobEffect { readonly type: 'storeBlob'; readonly ref: BlobRef; readonly value: unknown }
/** Train locally from `global`; answered by `trained`. */
export interface TrainEffect {
  readonly type: 'train';
  readonly job: string;
  readonly round: number;
  readonly global: BlobRef;
  readonly model: ModelSpec;
  readonly train: TrainSpec;
}
/** Evaluate `params` on the member's test split; answered by `evaluated`. */
export interface EvaluateEffect { readonly type: 'evaluate'; readonly job: string; readonly round: number; readonly params: BlobRef; readonly model: ModelSpec }
/**
 * Aggregate the submissions listed in the `inputs` blob (`[{client, ref, samples}]`, sorted
 * by client id) onto `base`; store the result; answer with `aggregated`. Must be deterministic.
 */
export interface AggregateEffect {
  readonly type: 'aggregate';
  readonly job: string;
  readonly round: number;
  readonly attempt: number;
  readonly inputs: BlobRef;
  readonly base: BlobRef;
  readonly aggregator: AggregatorSpec;
  readonly model: ModelSpec;
}
/** Create initial parameters for the model (step 5), store them; answered by `initialized`. */
export interface InitParamsEffect { readonly type: 'initParams'; readonly job: string; readonly model: ModelSpec; readonly seed: number }
/** Ask the data owner whether the job may use their data; answered by `consent`. */
export interface AskConsentEffect { readonly type: 'askConsent'; readonly job: string; readonly dataset: DatasetSpec }
/** Load the member's data; answered by `datasetLoaded` or `datasetFailed`. */
export interface LoadDatasetEffect {
  readonly type: 'loadDataset';
  readonly job: string;
  readonly source:
    | { readonly kind: 'distributor'; readonly index: BlobRef; readonly member: MemberId; readonly from: MemberId }
    | { readonly kind: 'local'; readonly dataset: DatasetSpec; readonly partition: PartitionSpec; readonly seed: number; readonly shard: { readonly index: number; readonly of: number } };
}
/** Distributor: partition the dataset, store shards and one index blob per leaf job; answered by `datasetPrepared`. */
export interface PrepareDatasetEffect {
  readonly type: 'prepareDataset';
  readonly dataset: DatasetSpec;
  readonly partition: PartitionSpec;
  readonly seed: number;
  /** Leaf jobs and their clients in shard order; shard i of the total goes to the i-th client overall. */
  readonly jobs: readonly { readonly job: string; readonly clients: readonly MemberId[]; readonly firstShard: number }[];
  readonly shards: number;
}
/** Fire a `timer` input with this id at time `at` (ms); replaces a timer with the same id. */
export interface SetTimerEffect { readonly type: 'setTimer'; readonly id: string; readonly at: number }
/** Cancel a timer. */
export interface CancelTimerEffect { readonly type: 'cancelTimer'; readonly id: string }
/** Persist a host checkpoint; `restoreHost` resumes from the latest one. */
export interface PersistEffect { readonly type: 'persist'; readonly job: string; readonly checkpoint: unknown }
/**
 * Journal a client's, worker's or distributor's restorable state (PROTOCOL.md §6.15),
 * replacing its previous entry; a restarted member resumes from it (`restoreMemberMachine`).
 * Durable before the step's later effects (the publish it precedes) are carried out.
 */
export interface JournalEffect { readonly type: 'journal'; readonly job: string; readonly role: 'client' | 'worker' | 'distributor'; readonly entry: unknown }
/** A metric for dashboards and run exports. */
export interface EmitMetricEffect {
  readonly type: 'emitMetric';
  readonly name: 'round' | 'workerFault' | 'workerExcluded' | 'consensusFailed' | 'quorumMissed' | 'memberOffline' | 'memberOnline' | 'sheetRejected' | 'sheetMismatch';
  readonly job: string;
  readonly round: number;
  readonly values: Readonly<Record<string, number | string>>;
}
/** The machine is done with the job; the shell may unsubscribe and drop it. */
export interface FinishedEffect {
  readonly type: 'finished';
  readonly job: string;
  readonly role: Role;
  readonly final: BlobRef | null;
  readonly reason: string;
}

/** Everything a machine can ask of its shell. */
export type Effect =
  | PublishEffect
  | FetchBlobEffect
  | StoreBlobEffect
  | TrainEffect
  | EvaluateEffect
  | AggregateEffect
  | InitParamsEffect
  | AskConsentEffect
  | LoadDatasetEffect
  | PrepareDatasetEffect
  | SetTimerEffect
  | CancelTimerEffect
  | PersistEffect
  | JournalEffect
  | EmitMetricEffect
  | FinishedEffect;

/**
 * A shell's table of effect handlers: one per effect type, each given its own effect and the
 * shell's arguments (`Args`, e.g. the machine that asked). Every shell (the runtime's
 * JobRunner, the simulator's SimShell, the in-memory driver) keeps one of these, so a table
 * that misses a type does not compile: adding an Effect variant makes the compiler point at
 * every shell, as adding a message type does at the validators (validate/index.ts).
 */
export type EffectHandlers<Args extends readonly unknown[], R = void> = {
  readonly [T in Effect['type']]: (effect: Extract<Effect, { type: T }>, ...args: Args) => R;
};
