import { availableParallelism } from 'node:os';
import {
  decodeParams,
  encodeDataChunk,
  encodeParams,
  loadDataset,
  paramCount,
  splitForMembers,
  subset,
  type DataSplit,
  type DatasetSpec,
  type BuiltinModelKind,
  kerasGraph,
  type ModelSpec,
  type PartitionSpec,
} from '@canopy/core/ml';
import { ComputePool, type ComputeTarget } from '@canopy/core/compute';
import type { AggregateEffect, BlobRef, EvalMetrics, EvaluateEffect, InitParamsEffect, LoadDatasetEffect, PrepareDatasetEffect, TrainEffect } from '@canopy/core/protocol';
import { canonicalJson, sha256Text } from '@canopy/core/util';
import type { LieKind } from '../scenario/faults.js';
import type { BlobStore } from './blobStore.js';
import { AggregateRunner, type DataCounts, type Maybe, type TrainOutcome, type Trainer } from './trainer.js';

/**
 * Training samples per second of each model on the reference machine (DESIGN.md: PyTorch,
 * one CPU thread, batch 32). Virtual time is charged from these, never from the wall clock,
 * so a real-mode run is as reproducible as a synthetic one.
 */
export const REFERENCE_SAMPLES_PER_SECOND: Readonly<Record<BuiltinModelKind, number>> = {
  logreg: 30_000,
  mlp: 14_000,
  '2nn': 6_700,
  cnn: 6_000,
  'mcmahan-cnn': 530,
};

/**
 * Reference training speed of a model: the table above for a built-in, and for a `keras` model
 * an estimate from its multiply-accumulates per sample at the McMahan CNN's rate (about 12.3 M
 * MACs at 530 samples/s), capped at logistic regression's rate.
 */
export function referenceSamplesPerSecond(model: ModelSpec): number {
  if (model.kind !== 'keras') return REFERENCE_SAMPLES_PER_SECOND[model.kind];
  return Math.min(REFERENCE_SAMPLES_PER_SECOND.logreg, 6.5e9 / Math.max(1, kerasGraph(model).macs));
}

const OBSERVER_KEY = '__observer__';

interface Index {
  readonly [member: string]: { readonly chunk: BlobRef; readonly samples: number };
}

/**
 * Real training (issue #5, `mode: real`): tfjs on real data in a pool of worker threads (or
 * on sim-workers through a Redis queue, when given that compute target),
 * which take fit and evaluate jobs from a queue as FELES's workers do. Each client's shard
 * is loaded into one thread, and its jobs go to that thread (affinity), so the pool keeps
 * every core busy without copying data per round. Aggregation runs in this thread with
 * core's streaming aggregator, on the very bytes the threads returned.
 */
export class RealTrainer implements Trainer {
  readonly mode = 'real';
  readonly secondsPerSample: number;
  readonly params: number;
  private readonly pool: ComputeTarget;
  private readonly aggregator: AggregateRunner;
  private full: Promise<DataSplit> | undefined;
  private shards: Promise<Map<string, DataSplit>> | undefined;
  private readonly loaded = new Map<string, Promise<DataCounts>>();
  private observer: Promise<unknown> | undefined;

  constructor(
    private readonly store: BlobStore,
    private readonly model: ModelSpec,
    private readonly dataset: { readonly source: DatasetSpec; readonly partition: PartitionSpec; readonly seed: number },
    /** Threads of a compute pool here (default: one per core), or another compute target (the queue). */
    compute?: number | ComputeTarget,
  ) {
    this.params = paramCount(model);
    this.secondsPerSample = 1 / referenceSamplesPerSecond(model);
    this.pool = typeof compute === 'object' ? compute : ComputePool.start({ size: compute ?? availableParallelism() });
    this.aggregator = new AggregateRunner(store, {
      decode: (b) => decodeParams(b, model).params,
      encode: (v) => encodeParams(model, v),
      fill: (entry, slot) => slot.set(decodeParams(store.bytes(entry.ref.hash), model).params),
    });
  }

  /** Threads in the pool. */
  get threads(): number {
    return this.pool.size;
  }

  /** Where tasks run. */
  get compute(): ComputeTarget {
    return this.pool;
  }

  loadData(member: string, e: LoadDatasetEffect): Promise<DataCounts> {
    // A client that crashed and restarted still has its data on disk: load it once.
    let p = this.loaded.get(member);
    if (!p) {
      p = this.chunkFor(member, e).then(async (bytes) => {
        const r = await this.pool.run('loadData', { key: member, source: { kind: 'chunk', bytes } }, { affinity: member, transfer: [bytes.buffer as ArrayBuffer] });
        return { train: r.train, test: r.test };
      });
      this.loaded.set(member, p);
      p.catch(() => this.loaded.delete(member));
    }
    return p;
  }

  async prepare(distributor: string, e: PrepareDatasetEffect): Promise<Record<string, BlobRef>> {
    const full = await this.fullData();
    const members = e.jobs.flatMap((j) => j.clients);
    const parts = splitForMembers(full, members, e.partition, e.seed);
    const indexes: Record<string, BlobRef> = {};
    for (const job of e.jobs) {
      const index: Record<string, { chunk: BlobRef; samples: number }> = {};
      for (const c of job.clients) {
        const part = parts.get(c)!;
        index[c] = { chunk: this.store.putBytes(encodeDataChunk(part), distributor), samples: part.train.count };
      }
      const text = canonicalJson(index);
      const ref = { hash: sha256Text(text), size: Buffer.byteLength(text) };
      this.store.put(ref, { kind: 'json', value: index }, distributor);
      indexes[job.job] = ref;
    }
    return indexes;
  }

  async init(member: string, e: InitParamsEffect): Promise<BlobRef> {
    const r = await this.pool.run('initParams', { model: e.model, seed: e.seed });
    return this.store.putBytes(r.params, member);
  }

  async train(member: string, shard: number, e: TrainEffect): Promise<TrainOutcome> {
    // The thread gets a copy of the global (structured clone): the stored bytes stay intact.
    const global = this.store.bytes(e.global.hash);
    // Per client and round, as the in-process baseline seeds it, so the two runs shuffle alike.
    const seed = e.train.seed + e.round * 100_003 + shard;
    const r = await this.pool.run('train', { key: member, model: e.model, train: e.train, global, seed }, { affinity: member });
    return { ref: this.store.putBytes(r.params, member), samples: r.samples, loss: r.loss, accuracy: r.accuracy };
  }

  async evaluate(member: string, e: EvaluateEffect): Promise<EvalMetrics> {
    const params = this.store.bytes(e.params.hash);
    const r = await this.pool.run('evaluate', { key: member, model: e.model, params }, { affinity: member });
    return { loss: r.loss, accuracy: r.accuracy, samples: r.samples };
  }

  aggregate(worker: string, e: AggregateEffect, lie: LieKind | null): Maybe<BlobRef> {
    return this.aggregator.run(worker, e, lie);
  }

  async observe(ref: BlobRef): Promise<{ loss: number; accuracy: number } | null> {
    if (!this.store.has(ref.hash)) return null;
    const params = this.store.bytes(ref.hash);
    this.observer ??= this.fullData().then((full) => {
      const split: DataSplit = { name: `${full.name} [test]`, train: subset(full.train, []), test: full.test };
      const bytes = encodeDataChunk(split);
      return this.pool.run('loadData', { key: OBSERVER_KEY, source: { kind: 'chunk', bytes } }, { affinity: OBSERVER_KEY, transfer: [bytes.buffer as ArrayBuffer] });
    });
    await this.observer;
    const r = await this.pool.run('evaluate', { key: OBSERVER_KEY, model: this.model, params }, { affinity: OBSERVER_KEY });
    return { loss: r.loss, accuracy: r.accuracy };
  }

  close(): Promise<void> {
    return this.pool.stop();
  }

  private fullData(): Promise<DataSplit> {
    this.full ??= loadDataset(this.dataset.source, { seed: this.dataset.seed });
    return this.full;
  }

  private async chunkFor(member: string, e: LoadDatasetEffect): Promise<Uint8Array> {
    const src = e.source;
    if (src.kind === 'distributor') {
      const index = this.store.json(src.index.hash) as Index;
      const entry = index[member];
      if (!entry) throw new Error(`the distributor's index has no shard for ${member}`);
      // A copy: the chunk is transferred to the thread, and the store keeps serving it.
      return this.store.bytes(entry.chunk.hash).slice();
    }
    // As loadLocalShard in a real node: the same split every member derives, shard by index.
    this.shards ??= this.fullData().then((full) => {
      const names = Array.from({ length: src.shard.of }, (_, i) => String(i));
      return splitForMembers(full, names, src.partition, src.seed);
    });
    const part = (await this.shards).get(String(src.shard.index));
    if (!part) throw new Error(`shard ${src.shard.index} of ${src.shard.of} does not exist`);
    return encodeDataChunk(part);
  }
}
