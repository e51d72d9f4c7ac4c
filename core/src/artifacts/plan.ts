import { z } from 'zod';
import { ColumnName, Step, type Condition, type QueryStep, type TrainStep } from './steps.js';

// The plan an artifact compiles to, carried in the job manifest's `artifact` field so it is
// part of the signed, hashed job sheet every member agrees on (docs/ARTIFACTS.md). Pure.

/** Bounds a column's values are clipped to before noise is added (they set the sensitivity). */
export const ColumnBounds = z.strictObject({ min: z.number(), max: z.number() }).refine((b) => b.max > b.min, { message: 'max must be greater than min' });

/** Privacy guards every node applies to its own answers. */
export const PrivacySpec = z.strictObject({
  /** A node whose current view has fewer rows than this refuses to answer a query. */
  minGroupSize: z.number().int().min(1).max(1_000_000).default(5),
  /** Local differential privacy: each node adds Laplace noise to its own partial answer. */
  noise: z
    .strictObject({
      kind: z.literal('laplace'),
      /** Privacy budget per query (a `count`, `stats` or `histogram` step). */
      epsilon: z.number().positive().max(100),
      /** Per numeric column that `stats` reads: the clipping bounds. */
      bounds: z.record(ColumnName, ColumnBounds).default({}),
    })
    .optional(),
});
export type PrivacySpec = z.infer<typeof PrivacySpec>;

/** Where a node's data comes from: a dataset its owner registered by name, or the job's dataset source. */
export const ArtifactData = z.discriminatedUnion('kind', [
  /** `canopy node --dataset <name>=<file.csv>` on each node. */
  z.strictObject({ kind: z.literal('named'), name: z.string().min(1).max(64).regex(/^[A-Za-z0-9._-]+$/, 'letters, digits and . _ - only') }),
  /** The manifest's `dataset` (e.g. the embedded MNIST), shared out as in a training job. */
  z.strictObject({ kind: z.literal('source') }),
]);
export type ArtifactData = z.infer<typeof ArtifactData>;

/** The `artifact` field of a compiled job manifest. */
export const ArtifactPlan = z.strictObject({
  v: z.literal(1),
  steps: z.array(Step).min(1).max(256),
  privacy: PrivacySpec,
  data: ArtifactData,
});
export type ArtifactPlan = z.infer<typeof ArtifactPlan>;

/** A query of an analytics phase: the step, its index, and the filters in force before it. */
export interface PlannedQuery {
  readonly stepIndex: number;
  readonly step: QueryStep;
  readonly where: readonly Condition[];
}

/**
 * A phase: what one pass over the nodes computes. Consecutive queries (with the filters
 * between them) need no answer from each other, so they share one pass; a train step is a
 * phase of its own, of `rounds` passes.
 */
export type Phase =
  | { readonly kind: 'analytics'; readonly queries: readonly PlannedQuery[]; readonly passes: 1 }
  | { readonly kind: 'train'; readonly stepIndex: number; readonly step: TrainStep; readonly where: readonly Condition[]; readonly passes: number };

/** Splits a plan's steps into phases. Filters accumulate: each applies to every later step. */
export function phasesOf(plan: Pick<ArtifactPlan, 'steps'>): Phase[] {
  const phases: Phase[] = [];
  const where: Condition[] = [];
  let open: PlannedQuery[] | null = null;
  plan.steps.forEach((step, stepIndex) => {
    if (step.kind === 'filter') {
      where.push(...step.where);
      return;
    }
    if (step.kind === 'train') {
      open = null;
      phases.push({ kind: 'train', stepIndex, step, where: [...where], passes: step.rounds });
      return;
    }
    if (!open) {
      open = [];
      phases.push({ kind: 'analytics', queries: open, passes: 1 });
    }
    open.push({ stepIndex, step, where: [...where] });
  });
  return phases;
}

/**
 * What a data owner is asked to consent to, in words: the steps, the dataset, and the
 * guards (docs/ARTIFACTS.md, "Privacy").
 */
export function describePlan(plan: ArtifactPlan, job: string): string {
  const steps = plan.steps.map((s) => {
    switch (s.kind) {
      case 'filter':
        return `keep rows where ${s.where.map((c) => `${c.column} ${c.op} ${JSON.stringify(c.value)}`).join(' and ')}`;
      case 'count':
        return 'count rows';
      case 'stats':
        return `${s.ops.join(', ')} of ${s.column}`;
      case 'histogram':
        return `histogram of ${s.column} (${s.bins.count} bins over [${s.bins.min}, ${s.bins.max}])`;
      case 'train':
        return `train a ${s.model.kind} model for ${s.rounds} rounds${s.labelColumn ? ` to predict ${s.labelColumn}` : ''}`;
    }
  });
  const data = plan.data.kind === 'named' ? `this node's dataset "${plan.data.name}"` : "this node's share of the job's dataset";
  const noise = plan.privacy.noise ? `, Laplace noise with epsilon ${plan.privacy.noise.epsilon} per query` : '';
  return `artifact in job ${job} on ${data}: ${steps.join('; ')}. Only partial answers leave the node; it refuses any query over fewer than ${plan.privacy.minGroupSize} rows${noise}`;
}
