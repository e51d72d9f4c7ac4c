import type { AggregatorSpec, DatasetSpec, ModelSpec, PartitionSpec, TrainSpec } from '../spec/ml.js';
import type { DataSource } from './mlTaskTypes.js';

export type { DataSource };

/** The result of local training: the new parameters (as stored bytes) and the run's statistics. */
export interface TrainOutcome {
  readonly params: Uint8Array;
  readonly samples: number;
  readonly loss: number;
  readonly accuracy: number;
  /** Training throughput, when the backend measured it. */
  readonly samplesPerSec?: number;
  /** The tfjs backend that trained (e.g. 'wasm', 'tensorflow'), when there is one. */
  readonly backend?: string;
}

/** Local training's progress within one task (the ML backend reports it about 20 times per epoch). */
export interface TrainProgress {
  /** 0-based. */
  readonly epoch: number;
  readonly epochs: number;
  /** 1-based: batches done in this epoch. */
  readonly batch: number;
  readonly batches: number;
}

/**
 * Options every compute task takes. `signal` aborts it: the task's promise rejects with an
 * AbortedError (code ABORTED) at once, and the work behind it stops at its next check, for
 * training after the batch it is in. A node aborts its tasks when it stops or leaves a job.
 */
export interface ComputeTaskOptions {
  readonly signal?: AbortSignal;
}

/** Options of {@link ComputeBackend.train}. */
export interface TrainTaskOptions extends ComputeTaskOptions {
  readonly onProgress?: (p: TrainProgress) => void;
}

/** Whose data a key holds: the member id and the job's training seed. */
export interface DataOwner {
  readonly member: string;
  readonly trainSeed: number;
}

/** A dataset chunk a distributor serves to one member. */
export interface PreparedChunk {
  readonly bytes: Uint8Array;
  readonly train: number;
  readonly test: number;
}

/** One input to an aggregation, in the order the inputs blob lists them (sorted by client id). */
export interface AggregateInput {
  readonly memberId: string;
  readonly params: Uint8Array;
  readonly weight: number;
}

/** {@link ComputeBackend.loadData}: load `source` under `key`; `owner` says whose data it is. */
export interface LoadDataTask {
  readonly key: string;
  readonly source: DataSource;
  readonly owner: DataOwner;
}

/** {@link ComputeBackend.initParams}: a model's first parameters from `seed`. */
export interface InitParamsTask {
  readonly model: ModelSpec;
  readonly seed: number;
}

/** {@link ComputeBackend.train}: train `model` from `global` on the data under `key`. */
export interface TrainTask {
  readonly key: string;
  readonly model: ModelSpec;
  readonly train: TrainSpec;
  readonly global: Uint8Array;
  readonly seed: number;
}

/** {@link ComputeBackend.evaluate}: evaluate `params` on the test split under `key`. */
export interface EvaluateTask {
  readonly key: string;
  readonly model: ModelSpec;
  readonly params: Uint8Array;
}

/** {@link ComputeBackend.aggregate}: aggregate `inputs` onto `base`; server-optimiser state lives under `stateKey`. */
export interface AggregateTask {
  readonly stateKey: string;
  readonly model: ModelSpec;
  readonly aggregator: AggregatorSpec;
  readonly base: Uint8Array;
  readonly inputs: readonly AggregateInput[];
}

/** {@link ComputeBackend.prepareChunks}: cut `dataset` into `shards` chunks. */
export interface PrepareChunksTask {
  readonly dataset: DatasetSpec;
  readonly partition: PartitionSpec;
  readonly seed: number;
  readonly shards: number;
}

/**
 * What a node computes with. Every task is one object (what to compute) plus options (how:
 * `signal`, progress). Parameters are always the bytes that are stored and hashed, so
 * whatever a backend returns can be put in the blob store and compared by hash. The runtime
 * uses the ML backend (worker threads, real training) or the synthetic one (cheap
 * deterministic arithmetic) where protocol behaviour, not learning, is under test.
 */
export interface ComputeBackend {
  readonly kind: 'ml' | 'synthetic';
  /**
   * Loads a member's data under `task.key`; later train/evaluate tasks name that key. The
   * owner says whose data it is and the job's training seed (the synthetic backend derives a
   * member's data from them; the ML backend has the data itself).
   */
  loadData(task: LoadDataTask, opts?: ComputeTaskOptions): Promise<{ train: number; test: number }>;
  initParams(task: InitParamsTask, opts?: ComputeTaskOptions): Promise<Uint8Array>;
  train(task: TrainTask, opts?: TrainTaskOptions): Promise<TrainOutcome>;
  evaluate(task: EvaluateTask, opts?: ComputeTaskOptions): Promise<{ loss: number; accuracy: number; samples: number }>;
  /** Deterministic: the same inputs in the same order give the same bytes. An aborted aggregation leaves no server-optimiser state behind. */
  aggregate(task: AggregateTask, opts?: ComputeTaskOptions): Promise<Uint8Array>;
  /** Distributor: one encoded data chunk per shard (shard i in position i), with its sample counts. */
  prepareChunks(task: PrepareChunksTask, opts?: ComputeTaskOptions): Promise<PreparedChunk[]>;
  /** Largest parameter blob this backend can produce for a model (the per-job fetch limit). */
  paramsLimit(model: ModelSpec): number;
  stop(): Promise<void>;
}
