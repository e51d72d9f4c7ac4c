import type { ServerState } from '@canopy/core/ml';
import { canonicalJson } from '@canopy/core/util';
import type { AggregateEffect, BlobRef, EvalMetrics, InitParamsEffect, InputEntry, LoadDatasetEffect, PrepareDatasetEffect, EvaluateEffect, TrainEffect } from '@canopy/core/protocol';
import type { LieKind } from '../scenario/faults.js';
import type { BlobStore } from './blobStore.js';
import { applyLie } from '@canopy/core/ml';
import { streamAggregate } from './streamAggregate.js';

// What a training mode gives the shell: the ML side of the core's effects. The shell
// decides *when* a result arrives (virtual time, from device profiles); a trainer decides
// *what* it is. A result may be a promise (real training runs on worker threads); the shell
// then waits for it before virtual time passes the moment it is due.

/** A value now, or later. */
export type Maybe<T> = T | Promise<T>;

/** A finished local training. */
export interface TrainOutcome {
  readonly ref: BlobRef;
  readonly samples: number;
  readonly loss: number;
  readonly accuracy: number;
}

/** A member's data, once loaded. */
export interface DataCounts {
  readonly train: number;
  readonly test: number;
}

/** The ML half of a shell, for one repetition. */
export interface Trainer {
  readonly mode: 'real' | 'synthetic';
  /** Virtual seconds one sample-epoch of training costs a device of speed 1. */
  readonly secondsPerSample: number;
  /** Parameters per model vector (sets aggregation cost). */
  readonly params: number;
  loadData(member: string, effect: LoadDatasetEffect): Maybe<DataCounts>;
  prepare(distributor: string, effect: PrepareDatasetEffect): Maybe<Record<string, BlobRef>>;
  init(member: string, effect: InitParamsEffect): Maybe<BlobRef>;
  /** `shard` is the member's position among all leaf clients (it seeds its shuffling). */
  train(member: string, shard: number, effect: TrainEffect): Maybe<TrainOutcome>;
  evaluate(member: string, effect: EvaluateEffect): Maybe<EvalMetrics>;
  aggregate(worker: string, effect: AggregateEffect, lie: LieKind | null): Maybe<BlobRef>;
  /** The simulator's own look at a global model on the whole test set (not part of the protocol). */
  observe(ref: BlobRef): Maybe<{ loss: number; accuracy: number } | null>;
  /**
   * Does, in this thread, one piece of the work queued for threads that none has started,
   * settling its promise as the thread would; false when there is none. Optional: the loop
   * calls it while it waits for a result (VirtualLoop.helper).
   */
  helpOne?(): boolean;
  close(): Promise<void>;
}

/** How a mode turns blobs into vectors and back, and fills a slot with one input's parameters. */
export interface VectorCodec {
  decode(bytes: Uint8Array): Float32Array;
  encode(values: Float32Array): Uint8Array;
  /** Writes the parameters of an input entry into `slot` (which has the base's length). */
  fill(entry: InputEntry, slot: Float32Array, base: Float32Array): void;
}

const STATEFUL = new Set(['fedavgm', 'fedadam', 'fedyogi', 'fedadagrad']);

/**
 * Runs a stateless aggregation away from the main thread (the synthetic mode's threads) and
 * resolves with its encoded result, the bytes the inline path would give.
 */
export type OffloadAggregate = (e: AggregateEffect) => Promise<Uint8Array>;

/**
 * Aggregation as workers do it (protocol step 7): the inputs blob's entries, in its order
 * (sorted by client id), streamed one at a time through core's aggregator onto the base.
 * Honest workers of a stateless aggregator compute identical bytes from identical inputs,
 * so the result is computed once per (aggregator, base, inputs) and shared: content in,
 * content out. With `offload`, stateless aggregations run there and the shared result is
 * the promise of it. Stateful ones (server optimiser state per worker) always run here. A
 * liar corrupts a copy of the honest result.
 */
export class AggregateRunner {
  private readonly honest = new Map<string, Maybe<BlobRef>>();
  private readonly serverStates = new Map<string, ServerState | undefined>();
  // Offloaded results are stored in the order their aggregations started, however the
  // threads finish, so the first to store a given content is the one the inline path names.
  private lastStored: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly store: BlobStore,
    private readonly codec: VectorCodec,
    private readonly offload?: OffloadAggregate,
  ) {}

  /** Aggregates for `worker` and stores the result; throws, or rejects, if an input is missing or malformed. */
  run(worker: string, e: AggregateEffect, lie: LieKind | null): Maybe<BlobRef> {
    // Stored blobs belong to the root round the aggregation started in, as when computed at once.
    const generation = this.store.generation;
    const ref = STATEFUL.has(e.aggregator.kind) ? this.runStateful(worker, e) : this.runStateless(worker, e, generation);
    if (!lie) return ref;
    const corrupt = (honest: BlobRef): BlobRef => {
      const values = Float32Array.from(this.store.vector(honest.hash, (b) => this.codec.decode(b)));
      applyLie(values, lie, worker, e.round);
      return this.store.putBytes(this.codec.encode(values), worker, generation);
    };
    return ref instanceof Promise ? ref.then(corrupt) : corrupt(ref);
  }

  private runStateless(worker: string, e: AggregateEffect, generation: number): Maybe<BlobRef> {
    const key = `${canonicalJson(e.aggregator)}|${e.base.hash}|${e.inputs.hash}`;
    const known = this.honest.get(key);
    if (known) return known;
    let ref: Maybe<BlobRef>;
    if (this.offload) {
      const bytes = this.offload(e);
      bytes.catch(() => undefined); // handled below, possibly after earlier results are stored
      const pending = this.lastStored.then(() => bytes).then((b) => this.store.putBytes(b, worker, generation));
      this.lastStored = pending.catch(() => undefined);
      // Once settled, later calls get the ref itself; a failure is not shared with them: they
      // try again, as inline (a restarted thread may succeed).
      pending.then(
        (r) => {
          if (this.honest.get(key) === pending) this.honest.set(key, r);
        },
        () => {
          if (this.honest.get(key) === pending) this.honest.delete(key);
        },
      );
      ref = pending;
    } else {
      const base = this.store.vector(e.base.hash, (b) => this.codec.decode(b));
      const entries = this.store.json(e.inputs.hash) as InputEntry[];
      const result = streamAggregate(e.aggregator, { global: base }, entries, (entry, slot) => this.codec.fill(entry, slot, base));
      ref = this.store.putBytes(this.codec.encode(result.params), worker);
    }
    if (this.honest.size >= 4096) this.honest.clear();
    this.honest.set(key, ref);
    return ref;
  }

  private runStateful(worker: string, e: AggregateEffect): BlobRef {
    const base = this.store.vector(e.base.hash, (b) => this.codec.decode(b));
    const entries = this.store.json(e.inputs.hash) as InputEntry[];
    const stateKey = `${worker}|${e.job}`;
    const serverState = this.serverStates.get(stateKey);
    const result = streamAggregate(e.aggregator, { global: base, ...(serverState ? { serverState } : {}) }, entries, (entry, slot) => this.codec.fill(entry, slot, base));
    this.serverStates.set(stateKey, result.serverState);
    return this.store.putBytes(this.codec.encode(result.params), worker);
  }
}
