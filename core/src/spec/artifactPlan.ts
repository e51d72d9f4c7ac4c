import { z } from 'zod';
import { ColumnName, Step } from './artifactSteps.js';

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
