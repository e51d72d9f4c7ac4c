import { availableParallelism } from 'node:os';
import { paramCount } from '@canopy/core/ml';
import { artifactCompute } from '@canopy/core/compute';
import type { AggregateInput, ComputeBackend } from '@canopy/core/compute';
import { mlCompute } from '@canopy/core/compute';
import type { AggregateEffect, BlobRef, EvalMetrics, EvaluateEffect, InitParamsEffect, InputEntry, JobTree, LoadDatasetEffect, TrainEffect } from '@canopy/core/protocol';
import { Rng } from '@canopy/core/util';
import type { LieKind } from '../scenario/faults.js';
import { clientTable, leafClients, splitRows, type SourceRows, type TableSplit } from '../scenario/scenarioTable.js';
import type { BlobStore } from './blobStore.js';
import { referenceSamplesPerSecond } from './realTrainer.js';
import type { DataCounts, TrainOutcome, Trainer } from './trainer.js';

/**
 * Virtual seconds a device of speed 1 takes to answer one analytics phase. Nominal: a node
 * reports 1 as its sample count (its row count is private), so the shell cannot scale it.
 */
export const ANSWER_SECONDS = 0.01;

const STATEFUL = new Set(['fedavgm', 'fedadam', 'fedyogi', 'fedadagrad']);

/** What an artifact run needs besides the store. */
export interface ArtifactTrainerOptions {
  readonly tree: JobTree;
  readonly rows: SourceRows;
  readonly split: TableSplit;
  /** Seed of the split of the rows among the leaf clients. */
  readonly splitSeed: number;
  /** Seed of the nodes' Laplace noise (real nodes use the OS's CSPRNG; a run must repeat). */
  readonly noiseSeed: number;
  /** Threads of the ML backend, for train steps (started on first use). */
  readonly threads?: number;
}

/**
 * The ML half of the shell for an artifact scenario: every virtual node computes with the
 * runtime's own ArtifactCompute (core/src/compute/artifactCompute.ts), over the
 * runtime's ML backend for train steps, so a resource the simulator makes is the resource a
 * real node makes from the same inputs, byte for byte (noise aside, which is random). Each
 * leaf client's table is its share of the scenario's CSV rows, decoded as a node decodes
 * its own file. One ArtifactCompute serves every member: its keys are `<member>/<job>`.
 */
export class ArtifactTrainer implements Trainer {
  readonly mode = 'real';
  readonly secondsPerSample: number;
  readonly params: number;
  private readonly compute: ComputeBackend;
  private readonly inner: ComputeBackend;
  private readonly shares: Map<string, number[]>;
  private readonly honest = new Map<string, Promise<BlobRef>>();
  private readonly cacheable: boolean;

  constructor(
    private readonly store: BlobStore,
    private readonly o: ArtifactTrainerOptions,
  ) {
    const plan = o.tree.manifest.artifact;
    if (!plan) throw new Error(`job ${o.tree.root} is not an artifact`);
    const trains = plan.steps.flatMap((s) => (s.kind === 'train' ? [s] : []));
    const clients = leafClients(o.tree.manifest.cluster);
    this.shares = splitRows(o.rows, o.split, clients, o.splitSeed);
    // Timing: analytics is nominal; training charges a client's mean share at the model's reference rate.
    const meanRows = o.rows.rows.length / Math.max(1, clients.length);
    this.secondsPerSample = trains.length === 0 ? ANSWER_SECONDS : ANSWER_SECONDS + meanRows / Math.min(...trains.map((t) => referenceSamplesPerSecond(t.model)));
    this.params = Math.max(1000, ...trains.map((t) => paramCount(t.model)));
    // Honest workers of one round compute the same bytes; a server optimiser's state would not be shared.
    this.cacheable = !trains.some((t) => STATEFUL.has(t.aggregator.kind));
    this.inner = mlCompute({ threads: o.threads ?? availableParallelism() });
    const noise = Rng.fromSeed(o.noiseSeed).fork('artifact-noise');
    this.compute = artifactCompute({
      tree: o.tree,
      inner: this.inner,
      datasets: new Map(),
      uniform: () => noise.float(),
      readDataset: async (_name, member) => {
        const rows = this.shares.get(member);
        return rows ? { table: clientTable(o.rows, rows, member) } : { refusal: `${member} is not a leaf client of the scenario's tree` };
      },
    });
  }

  async loadData(member: string, e: LoadDatasetEffect): Promise<DataCounts> {
    if (e.source.kind !== 'local') throw new Error('an artifact scenario has no dataset distributor');
    const owner = { member, trainSeed: this.o.tree.manifest.train.seed };
    return this.compute.loadData({ key: this.key(member, e.job), source: e.source, owner });
  }

  prepare(): never {
    throw new Error('an artifact scenario has no dataset distributor');
  }

  async init(member: string, e: InitParamsEffect): Promise<BlobRef> {
    return this.store.putBytes(await this.compute.initParams({ model: e.model, seed: e.seed }), member);
  }

  async train(member: string, shard: number, e: TrainEffect): Promise<TrainOutcome> {
    // Seeded per member and round, as a node seeds it (runtime taskEffects.runTrain).
    const seed = e.train.seed + e.round * 100_003 + shard;
    const r = await this.compute.train({ key: this.key(member, e.job), model: e.model, train: e.train, global: this.store.bytes(e.global.hash), seed });
    return { ref: this.store.putBytes(r.params, member), samples: r.samples, loss: r.loss, accuracy: r.accuracy };
  }

  async evaluate(member: string, e: EvaluateEffect): Promise<EvalMetrics> {
    return this.compute.evaluate({ key: this.key(member, e.job), model: e.model, params: this.store.bytes(e.params.hash) });
  }

  aggregate(worker: string, e: AggregateEffect, lie: LieKind | null): Promise<BlobRef> {
    const entries = this.store.json(e.inputs.hash) as InputEntry[];
    const base = this.store.bytes(e.base.hash);
    const inputs: AggregateInput[] = entries.map((x) => ({ memberId: x.client, params: this.store.bytes(x.ref.hash), weight: x.samples }));
    if (lie) {
      // As the runtime's fault injection lies (taskEffects.runAggregate): a well-formed but
      // wrong vote, the aggregate without the last submission (or, with one, the base).
      if (inputs.length <= 1) return Promise.resolve(this.store.putBytes(base, worker));
      return this.compute.aggregate({ stateKey: `lie/${worker}/${e.job}`, model: e.model, aggregator: e.aggregator, base, inputs: inputs.slice(0, -1) }).then((b) => this.store.putBytes(b, worker));
    }
    const key = `${e.job}|${e.base.hash}|${e.inputs.hash}`;
    let ref = this.cacheable ? this.honest.get(key) : undefined;
    if (!ref) {
      ref = this.compute.aggregate({ stateKey: `${worker}/${e.job}`, model: e.model, aggregator: e.aggregator, base, inputs }).then((b) => this.store.putBytes(b, worker));
      if (this.cacheable) {
        if (this.honest.size >= 4096) this.honest.clear();
        this.honest.set(key, ref);
        ref.catch(() => this.honest.delete(key));
      }
    }
    return ref;
  }

  /** An artifact has no test set of its own: rounds record no accuracy. */
  observe(): null {
    return null;
  }

  close(): Promise<void> {
    return this.inner.stop();
  }

  // The compute backend's key: one member's data (or aggregation) in one job.
  private key(member: string, job: string): string {
    return `${member}/${job}`;
  }
}
