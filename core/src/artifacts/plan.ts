import type { Condition, QueryStep, TrainStep } from '../spec/artifactSteps.js';
import type { ArtifactPlan } from '../spec/artifactPlan.js';

// How an artifact's plan (core/src/spec/artifactPlan.ts) runs: its phases, and the words a
// data owner consents to. Pure.

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
