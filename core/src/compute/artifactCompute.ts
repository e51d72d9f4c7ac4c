import { readFile } from 'node:fs/promises';
import { webcrypto } from 'node:crypto';
import {
  answerPhase,
  applyWhere,
  artifactContext,
  currentPhase,
  decodeResource,
  decodeTable,
  encodeResource,
  fullView,
  initialHeader,
  mergeAt,
  type ArtifactContext,
  type NodeData,
  type Phase,
  type Resource,
  type Table,
} from '../artifacts/index.js';
import { encodeDataChunk } from '../ml/dataChunk.js';
import type { LabeledData } from '../ml/types.js';
import type { JobTree } from '../protocol/jobTree.js';
import { BadInputError, DataFileError } from '../util/errors.js';
import type { ComputeBackend, ComputeTaskOptions, DataSource } from './computeBackend.js';

// The compute backend of an artifact job (docs/ARTIFACTS.md, "How an artifact runs"). The
// job's "global parameters" are the artifact's resource: `initParams` makes the first one,
// a client's `train` answers the current phase on its own data (analytics in pure code,
// training on the node's ML backend), and `aggregate` merges the answers at the job's depth.
// Everything else of the job protocol (rounds, workers, consensus, blobs) is unchanged.

/** What an artifact job needs from its node. */
export interface ArtifactComputeInit {
  readonly tree: JobTree;
  /** The node's ML (or synthetic) backend, for train steps. */
  readonly inner: ComputeBackend;
  /** Datasets the node's owner registered: name → CSV file (`canopy node --dataset`). */
  readonly datasets: ReadonlyMap<string, string>;
  /** Noise source, uniform in [0, 1); default: the operating system's CSPRNG. */
  readonly uniform?: () => number;
  /**
   * Reads a member's named dataset instead of `datasets` (the simulator: many virtual
   * members in one process, each with its own table in memory).
   */
  readonly readDataset?: (name: string, member: string) => Promise<NodeData>;
}

/** An artifact job's compute backend, over the node's own. */
export function artifactCompute(init: ArtifactComputeInit): ComputeBackend {
  const { tree, inner, datasets } = init;
  const plan = tree.manifest.artifact;
  if (!plan) throw new Error(`job ${tree.root} carries no artifact plan`);
  const root = tree.jobs.get(tree.root)!;
  const participants = [...tree.jobs.values()].filter((j) => j.leaf).flatMap((j) => j.clients.map((c) => c.id));
  const ctx: ArtifactContext = artifactContext(plan, root.timing.distribution === 'sequential' ? root.clients.length : 1, participants);
  const uniform = init.uniform ?? cryptoUniform;
  const loaded = new Map<string, { member: string; data: NodeData; source: DataSource }>();
  const chunks = new Set<string>();
  const depthOf = (key: string) => {
    // Keys are `<rootId>/<job>` (data) or `<anything>/<job>` (aggregation state).
    const job = key.slice(key.lastIndexOf('/') + 1);
    const node = tree.jobs.get(job);
    if (!node) throw new Error(`key ${key} names no job of ${tree.root}`);
    return node.depth;
  };
  const dataOf = (key: string) => {
    const d = loaded.get(key);
    if (!d) throw new BadInputError(`no data loaded under "${key}"`);
    return d;
  };
  // The key the inner backend holds a train phase's data under: a CSV view is loaded per
  // phase (its filters differ); a dataset source is loaded once, under the job's key.
  const trainKey = async (key: string, phase: Extract<Phase, { kind: 'train' }>, index: number, opts: ComputeTaskOptions) => {
    const d = dataOf(key);
    if (plan.data.kind === 'source') return key;
    if ('refusal' in d.data) throw new BadInputError(`cannot train: ${d.data.refusal}`);
    const k = `${key}#${index}`;
    if (!chunks.has(k)) {
      await inner.loadData({ key: k, source: { kind: 'chunk', bytes: encodeDataChunk(tableSplit(d.data.table, phase)) }, owner: { member: d.member, trainSeed: phase.step.train.seed } }, opts);
      chunks.add(k);
    }
    return k;
  };
  const trainPhases = ctx.phases.filter((p): p is Extract<Phase, { kind: 'train' }> => p.kind === 'train');
  return {
    kind: inner.kind,
    loadData: async (task, opts) => {
      const { key, source, owner } = task;
      let data: NodeData;
      if (plan.data.kind === 'named') {
        data = init.readDataset ? await init.readDataset(plan.data.name, owner.member) : await readNamed(plan.data.name, datasets);
      } else {
        const r = await inner.loadData(task, opts);
        loaded.set(key, { member: owner.member, data: { refusal: 'no table' }, source });
        return r;
      }
      loaded.set(key, { member: owner.member, data, source });
      // One, not the row count: an ACK travels over gossip, and a node's size is its own business.
      return { train: 1, test: 0 };
    },
    initParams: async (_task, opts) => {
      const first = ctx.phases[0]!;
      const weights = first.kind === 'train' ? await inner.initParams({ model: first.step.model, seed: first.step.train.seed }, opts) : new Uint8Array();
      return encodeResource({ header: initialHeader(), weights });
    },
    train: async ({ key, global, seed }, opts = {}) => {
      const r = decodeResource(global);
      const phase = currentPhase(ctx, r.header);
      const { member, data } = dataOf(key);
      if (!phase) return { params: global, samples: 1, loss: 0, accuracy: 0 };
      if (phase.kind === 'analytics') {
        const header = answerPhase(ctx, r.header, depthOf(key), member, data, uniform);
        return { params: encodeResource({ header, weights: r.weights }), samples: 1, loss: 0, accuracy: 0 };
      }
      const t = await inner.train({ key: await trainKey(key, phase, r.header.phase, opts), model: phase.step.model, train: phase.step.train, global: r.weights, seed }, opts);
      return { params: encodeResource({ header: r.header, weights: t.params }), samples: t.samples, loss: t.loss, accuracy: t.accuracy };
    },
    evaluate: async ({ key, params }, opts = {}) => {
      const r = decodeResource(params);
      const phase = currentPhase(ctx, r.header);
      if (phase?.kind !== 'train') return { loss: 0, accuracy: 0, samples: 0 };
      return inner.evaluate({ key: await trainKey(key, phase, r.header.phase, opts), model: phase.step.model, params: r.weights }, opts);
    },
    aggregate: async ({ stateKey, base: baseBytes, inputs }, opts) => {
      const base = decodeResource(baseBytes);
      const decoded: Resource[] = inputs.map((x) => decodeResource(x.params));
      const phase = currentPhase(ctx, base.header);
      let weights = base.weights;
      // In a sequential round one input comes in, and FedAvg of one input is that input bit
      // for bit (aggregate/arithmetic.ts): the weights pass on intact, cyclic weight transfer.
      if (phase?.kind === 'train') {
        weights = await inner.aggregate(
          { stateKey, model: phase.step.model, aggregator: phase.step.aggregator, base: base.weights, inputs: inputs.map((x, i) => ({ memberId: x.memberId, params: decoded[i]!.weights, weight: x.weight })) },
          opts,
        );
      }
      const out = mergeAt(ctx, depthOf(stateKey), base.header, decoded.map((d) => d.header));
      if (out.entered?.kind === 'train') weights = await inner.initParams({ model: out.entered.step.model, seed: out.entered.step.train.seed }, opts);
      return encodeResource({ header: out.header, weights });
    },
    prepareChunks: (task, opts) => inner.prepareChunks(task, opts),
    paramsLimit: (model) => Math.max(inner.paramsLimit(model), ...trainPhases.map((p) => inner.paramsLimit(p.step.model))) + (16 << 20),
    // The inner backend is the node's: it outlives this job.
    stop: async () => undefined,
  };
}

/** Reads a node's named dataset; what goes wrong becomes the node's refusal, said in the result. */
export async function readNamed(name: string, datasets: ReadonlyMap<string, string>): Promise<NodeData> {
  const file = datasets.get(name);
  if (file === undefined) return { refusal: `this node has no dataset named "${name}" (its owner registers one with --dataset ${name}=<file.csv>)` };
  try {
    const table: Table = decodeTable(await readFile(file, 'utf8'), file);
    return { table };
  } catch (err) {
    if (err instanceof DataFileError) return { refusal: `dataset "${name}": ${err.message}` };
    const e = err as NodeJS.ErrnoException;
    return { refusal: `dataset "${name}" could not be read (${e.code ?? e.message})` };
  }
}

// A table's current view as training data: the label column holds class indices
// 0..numClasses-1 (the same on every node), features are the other numeric columns (or
// those listed); every fifth row is held out for evaluation.
function tableSplit(table: Table, phase: Extract<Phase, { kind: 'train' }>) {
  const { step } = phase;
  const label = step.labelColumn!;
  const view = applyWhere(fullView(table), phase.where);
  const names = step.features ?? table.header.filter((h) => h !== label && table.columns.get(h)?.kind === 'number');
  const cols = names.map((n) => {
    const c = table.columns.get(n);
    if (!c || c.kind !== 'number') throw new BadInputError(`${table.file}: feature column "${n}" is missing or not numeric`);
    return c.values;
  });
  const y = table.columns.get(label);
  if (!y || y.kind !== 'number') throw new BadInputError(`${table.file}: label column "${label}" is missing or not numeric`);
  const k = step.model.numClasses;
  const rows = view.rows.filter((r) => cols.every((c) => !Number.isNaN(c[r]!)) && Number.isInteger(y.values[r]) && y.values[r]! >= 0 && y.values[r]! < k);
  if (step.model.inputShape.length !== 1 || step.model.inputShape[0] !== names.length) {
    throw new BadInputError(`train step: the model's inputShape is [${step.model.inputShape.join(', ')}] but the table gives ${names.length} features (${names.join(', ')})`);
  }
  const part = (rs: number[]): LabeledData => ({
    features: Float32Array.from(rs.flatMap((r) => cols.map((c) => c[r]!))),
    labels: Int32Array.from(rs, (r) => y.values[r]!),
    sampleShape: [names.length],
    numClasses: k,
    count: rs.length,
  });
  return { name: table.file, train: part(rows.filter((_, i) => i % 5 !== 4)), test: part(rows.filter((_, i) => i % 5 === 4)) };
}

function cryptoUniform(): number {
  const [a, b] = webcrypto.getRandomValues(new Uint32Array(2));
  // 53 random bits.
  return ((a! >>> 5) * 67108864 + (b! >>> 6)) / 9007199254740992;
}
