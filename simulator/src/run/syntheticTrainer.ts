import type { AggregateEffect, BlobRef, EvalMetrics, EvaluateEffect, InitParamsEffect, InputEntry, PrepareDatasetEffect, TrainEffect } from '@canopy/core/protocol';
import { canonicalJson, sha256Text } from '@canopy/core/util';
import type { LieKind } from '../scenario/faults.js';
import type { BlobStore } from './blobStore.js';
import {
  decodeSyntheticParams,
  encodeSyntheticParams,
  syntheticBlobSize,
  syntheticEvaluate,
  syntheticInit,
  syntheticTrainInto,
  syntheticTrainLoss,
  type SyntheticSpec,
} from '@canopy/core/ml';
import { AggregatePool } from './aggregatePool.js';
import type { ThreadInput } from './aggregateTasks.js';
import { AggregateRunner, type DataCounts, type Maybe, type TrainOutcome, type Trainer } from './trainer.js';

/** Settings of the synthetic mode beyond the arithmetic. */
export interface SyntheticTrainerOptions {
  readonly spec: SyntheticSpec;
  readonly samplesPerClient: number;
  readonly secondsPerSample: number;
  /** Threads that run stateless aggregations (see aggregatePool.ts); 0 (default): in this thread. */
  readonly aggregateThreads?: number;
}

/**
 * Synthetic training (see core/src/ml/synthetic.ts). A client's update is stored as its recipe, named
 * by the sha256 of that recipe, and built only inside the aggregation that reads it, so a
 * round holds O(clusters × P) floats however many clients train. With aggregation threads,
 * that rebuilding and the aggregation itself run there, on another core, while this thread
 * runs protocol events; the result bytes are the same.
 */
export class SyntheticTrainer implements Trainer {
  readonly mode = 'synthetic';
  readonly secondsPerSample: number;
  readonly params: number;
  private readonly spec: SyntheticSpec;
  private readonly samples: number;
  private readonly evals = new Map<string, { loss: number; accuracy: number }>();
  private readonly aggregator: AggregateRunner;
  private readonly recipePrefix: string;
  private readonly pool: AggregatePool | undefined;

  constructor(
    private readonly store: BlobStore,
    options: SyntheticTrainerOptions,
  ) {
    this.spec = options.spec;
    this.params = options.spec.params;
    this.samples = options.samplesPerClient;
    this.secondsPerSample = options.secondsPerSample;
    this.recipePrefix = `canopy-synthetic-update/1:${canonicalJson(this.spec)}`;
    this.pool = options.aggregateThreads ? new AggregatePool(options.aggregateThreads) : undefined;
    this.aggregator = new AggregateRunner(
      store,
      {
        decode: decodeSyntheticParams,
        encode: encodeSyntheticParams,
        fill: (entry, slot) => this.fill(entry.ref.hash, slot),
      },
      this.pool ? (e) => this.aggregateOnThread(this.pool!, e) : undefined,
    );
  }

  /** Aggregation threads in use (0: aggregation runs in this thread). */
  get aggregateThreads(): number {
    return this.pool?.threads ?? 0;
  }

  loadData(): DataCounts {
    return { train: this.samples, test: Math.max(1, Math.ceil(this.samples / 4)) };
  }

  prepare(distributor: string, e: PrepareDatasetEffect): Record<string, BlobRef> {
    // Synthetic data needs no shards; the index still names every client, as a distributor's does.
    const indexes: Record<string, BlobRef> = {};
    for (const job of e.jobs) {
      const value = Object.fromEntries(job.clients.map((c) => [c, { samples: this.samples }]));
      const text = canonicalJson(value);
      const ref = { hash: sha256Text(text), size: Buffer.byteLength(text) };
      this.store.put(ref, { kind: 'json', value }, distributor);
      indexes[job.job] = ref;
    }
    return indexes;
  }

  init(member: string, e: InitParamsEffect): BlobRef {
    return this.store.putBytes(encodeSyntheticParams(syntheticInit(this.params, e.seed)), member);
  }

  train(member: string, _shard: number, e: TrainEffect): TrainOutcome {
    const ref = { hash: sha256Text(`${this.recipePrefix}:${e.global.hash}:${member}`), size: syntheticBlobSize(this.params) };
    this.store.put(ref, { kind: 'update', member, global: e.global.hash }, member);
    const stats = syntheticTrainLoss(this.evaluateHash(e.global.hash).loss, this.spec);
    return { ref, samples: this.samples, loss: stats.loss, accuracy: stats.accuracy };
  }

  evaluate(_member: string, e: EvaluateEffect): EvalMetrics {
    return { ...this.evaluateHash(e.params.hash), samples: Math.max(1, Math.ceil(this.samples / 4)) };
  }

  aggregate(worker: string, e: AggregateEffect, lie: LieKind | null): Maybe<BlobRef> {
    return this.aggregator.run(worker, e, lie);
  }

  observe(ref: BlobRef): { loss: number; accuracy: number } | null {
    return this.store.has(ref.hash) ? this.evaluateHash(ref.hash) : null;
  }

  helpOne(): boolean {
    return this.pool?.helpOne() ?? false;
  }

  async close(): Promise<void> {
    await this.pool?.stop();
  }

  // Every client of a round evaluates the same global: once per hash is enough.
  private evaluateHash(hash: string): { loss: number; accuracy: number } {
    let r = this.evals.get(hash);
    if (!r) {
      r = syntheticEvaluate(this.store.vector(hash, decodeSyntheticParams), this.spec);
      if (this.evals.size >= 1024) this.evals.clear();
      this.evals.set(hash, r);
    }
    return r;
  }

  private fill(hash: string, slot: Float32Array): void {
    const input = this.inputSource(hash);
    if (input.kind === 'update') syntheticTrainInto(slot, input.global, input.member, this.spec);
    else slot.set(decodeSyntheticParams(input.bytes));
  }

  // What an input of an aggregation is, read from the store; throws for one that is missing or not parameters.
  private inputSource(hash: string): { kind: 'update'; member: string; globalHash: string; global: Float32Array } | { kind: 'bytes'; bytes: Uint8Array } {
    const body = this.store.body(hash);
    if (!body) throw new Error(`input ${hash.slice(0, 12)} is not stored`);
    if (body.kind === 'update') return { kind: 'update', member: body.member, globalHash: body.global, global: this.store.vector(body.global, decodeSyntheticParams) };
    if (body.kind === 'bytes') return body;
    throw new Error(`input ${hash.slice(0, 12)} is JSON, not parameters`);
  }

  /**
   * {@link fill}'s reads of the store, done now, and its arithmetic on a thread. The store is
   * read in the order the inline path reads it; the first input it cannot resolve goes to
   * the thread as `unusable`, so the aggregation fails where, and as, it would inline.
   */
  private aggregateOnThread(pool: AggregatePool, e: AggregateEffect): Promise<Uint8Array> {
    const vectors = new Map<string, Float32Array>();
    let entries: InputEntry[];
    try {
      vectors.set(e.base.hash, this.store.vector(e.base.hash, decodeSyntheticParams));
      entries = this.store.json(e.inputs.hash) as InputEntry[];
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    const inputs: ThreadInput[] = [];
    for (const { client, samples, ref } of entries) {
      try {
        const input = this.inputSource(ref.hash);
        if (input.kind === 'update') {
          vectors.set(input.globalHash, input.global);
          inputs.push({ kind: 'update', client, samples, member: input.member, global: input.globalHash });
        } else inputs.push({ kind: 'bytes', client, samples, bytes: input.bytes });
      } catch (error) {
        inputs.push({ kind: 'unusable', client, samples, message: error instanceof Error ? error.message : String(error) });
        break;
      }
    }
    return pool.aggregate({ aggregator: e.aggregator, spec: this.spec, base: e.base.hash, inputs }, vectors);
  }
}
