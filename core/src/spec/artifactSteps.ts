import { z } from 'zod';
import { AggregatorSpec, ModelSpec, TrainSpec } from './ml.js';

// The step vocabulary of an artifact (docs/ARTIFACTS.md, "Steps"). A step either works on
// a node's data alone (`filter`) or makes every node answer and the answers be merged
// (`count`, `stats`, `histogram`, `train`). These schemas are pure (zod only): the protocol
// core carries them inside the job manifest.

/** A CSV column name, as written in the header row. */
export const ColumnName = z.string().min(1).max(128);

const Scalar = z.union([z.number(), z.string().max(256)]);

/** One condition of a filter: `column op value`; `in` takes a list. */
export const Condition = z
  .strictObject({
    column: ColumnName,
    op: z.enum(['==', '!=', '<', '<=', '>', '>=', 'in']),
    value: z.union([Scalar, z.array(Scalar).min(1).max(1000)]),
  })
  .superRefine((c, ctx) => {
    if ((c.op === 'in') !== Array.isArray(c.value)) {
      ctx.addIssue({ code: 'custom', path: ['value'], message: c.op === 'in' ? '`in` needs a list of values' : `\`${c.op}\` needs one value, not a list` });
    }
    if (['<', '<=', '>', '>='].includes(c.op) && typeof c.value !== 'number') {
      ctx.addIssue({ code: 'custom', path: ['value'], message: `\`${c.op}\` compares numbers; give a number` });
    }
  });
export type Condition = z.infer<typeof Condition>;

/** The statistics a `stats` step can ask for. */
export const StatOp = z.enum(['count', 'sum', 'mean', 'variance', 'min', 'max']);
export type StatOp = z.infer<typeof StatOp>;

const name = z.string().min(1).max(64).optional();

/** Keeps only the rows matching every condition, for all the steps that follow. Local: nothing is sent. */
export const FilterStep = z.strictObject({ kind: z.literal('filter'), name, where: z.array(Condition).min(1).max(64) });
/** The number of rows in the current view, summed over the nodes. */
export const CountStep = z.strictObject({ kind: z.literal('count'), name });
/** Statistics of one numeric column over the current view. `variance` is the sample variance (n − 1). */
export const StatsStep = z.strictObject({
  kind: z.literal('stats'),
  name,
  column: ColumnName,
  ops: z.array(StatOp).min(1).max(6).default(['count', 'sum', 'mean', 'variance', 'min', 'max']),
});
/** A histogram of one numeric column: `count` equal bins over [min, max]; values outside are counted as below/above. */
export const HistogramStep = z.strictObject({
  kind: z.literal('histogram'),
  name,
  column: ColumnName,
  bins: z
    .strictObject({ min: z.number(), max: z.number(), count: z.number().int().min(1).max(1000) })
    .refine((b) => b.max > b.min, { message: 'bins.max must be greater than bins.min' }),
});
/** Federated training over the nodes' data (the current view), for `rounds` passes. */
export const TrainStep = z.strictObject({
  kind: z.literal('train'),
  name,
  model: ModelSpec,
  train: TrainSpec,
  aggregator: AggregatorSpec.default({ kind: 'fedavg' }),
  rounds: z.number().int().min(1).max(10_000),
  /** For tabular data: the class column; every other numeric column is a feature unless `features` lists them. */
  labelColumn: ColumnName.optional(),
  features: z.array(ColumnName).min(1).max(10_000).optional(),
});

/** The known step kinds, for error messages. */
export const STEP_KINDS = ['filter', 'count', 'stats', 'histogram', 'train'] as const;

/** One step of an artifact. */
export const Step = z.discriminatedUnion('kind', [FilterStep, CountStep, StatsStep, HistogramStep, TrainStep]);
export type Step = z.infer<typeof Step>;
export type FilterStep = z.infer<typeof FilterStep>;
export type CountStep = z.infer<typeof CountStep>;
export type StatsStep = z.infer<typeof StatsStep>;
export type HistogramStep = z.infer<typeof HistogramStep>;
export type TrainStep = z.infer<typeof TrainStep>;
/** A step that makes the nodes answer (every kind but `filter`). */
export type QueryStep = CountStep | StatsStep | HistogramStep;
