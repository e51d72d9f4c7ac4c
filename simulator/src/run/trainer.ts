import { createAggregator, type ServerState } from '@canopy/core/ml';
import { canonicalJson } from '@canopy/core/util';
import type { AggregateEffect, BlobRef, EvalMetrics, InitParamsEffect, InputEntry, LoadDatasetEffect, PrepareDatasetEffect, EvaluateEffect, TrainEffect } from '@canopy/core/protocol';
import type { LieKind } from '../scenario/faults.js';
import type { BlobStore } from './blobStore.js';
import { applyLie } from '@canopy/core/ml/synthetic';

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
 * Aggregation as workers do it (protocol step 7): the inputs blob's entries, in its order
 * (sorted by client id), streamed one at a time through core's aggregator onto the base.
 * Honest workers of a stateless aggregator compute identical bytes from identical inputs,
 * so the result is computed once per (aggregator, base, inputs) and shared: content in,
 * content out. A liar corrupts a copy of the honest result.
 */
export class AggregateRunner {
  private readonly honest = new Map<string, BlobRef>();
  private readonly serverStates = new Map<string, ServerState | undefined>();

  constructor(
    private readonly store: BlobStore,
    private readonly codec: VectorCodec,
  ) {}

  /** Aggregates for `worker` and stores the result; throws if an input is missing or malformed. */
  run(worker: string, e: AggregateEffect, lie: LieKind | null): BlobRef {
    const stateful = STATEFUL.has(e.aggregator.kind);
    const key = `${canonicalJson(e.aggregator)}|${e.base.hash}|${e.inputs.hash}`;
    let ref = stateful ? undefined : this.honest.get(key);
    if (!ref) {
      const base = this.store.vector(e.base.hash, (b) => this.codec.decode(b));
      const entries = this.store.json(e.inputs.hash) as InputEntry[];
      const stateKey = `${worker}|${e.job}`;
      const serverState = this.serverStates.get(stateKey);
      const agg = createAggregator(e.aggregator, { global: base, ...(serverState ? { serverState } : {}) });
      for (const entry of entries) {
        const slot = agg.allocate();
        this.codec.fill(entry, slot, base);
        agg.add({ memberId: entry.client, params: slot, weight: entry.samples });
      }
      const result = agg.finish();
      if (stateful) this.serverStates.set(stateKey, result.serverState);
      ref = this.store.putBytes(this.codec.encode(result.params), worker);
      if (!stateful) {
        if (this.honest.size >= 4096) this.honest.clear();
        this.honest.set(key, ref);
      }
    }
    if (!lie) return ref;
    const values = Float32Array.from(this.store.vector(ref.hash, (b) => this.codec.decode(b)));
    applyLie(values, lie, worker, e.round);
    return this.store.putBytes(this.codec.encode(values), worker);
  }
}
