import { emptyPartial, mergePartials, partialOf, refusalPartial, sampleVariance, binEdges, type QueryPartial } from './partial.js';
import { phasesOf, type Phase, type PlannedQuery } from './plan.js';
import type { ArtifactPlan } from '../spec/artifactPlan.js';
import { addNoise, clip, groupSizeRefusal, type Uniform } from './privacy.js';
import type { PhasePartial, ResourceHeader, StepResult } from './resource.js';
import { applyWhere, ColumnError, fullView, numericValues, type Table } from './table.js';

// The pure core of an artifact run: the first resource, a node's answer, and the merge a
// worker does at any depth of the tree (docs/ARTIFACTS.md, "Exactness").
//
// Partial answers are kept by depth. A job at depth d hands its clients a resource with
// slots 0..d; a leaf client answers in slot d + 1 and nothing else; the job's aggregate folds
// its inputs' slot d + 1 into its own slot d and drops deeper slots; the root's slot 0 is the
// running answer. So a sub-job's submission carries exactly what its subtree added in the
// parent's round, whatever the distribution at each level: in `collect`, slot d starts
// empty and gathers every client once; in `sequential`, each local round's aggregate is the
// next round's base, so slot d travels from client to client and grows. A node that finds
// itself already in `visited` (a sequential turn that came round again) adds nothing.

/** What the pure functions need to know about the run beyond the plan. */
export interface ArtifactContext {
  readonly plan: ArtifactPlan;
  readonly phases: readonly Phase[];
  /** Root rounds per pass: the root's client count when the root is sequential, else 1. */
  readonly rootRoundsPerPass: number;
  /** Every leaf client, sorted: who should answer. */
  readonly participants: readonly string[];
}

/** Builds the context of a plan. */
export function artifactContext(plan: ArtifactPlan, rootRoundsPerPass: number, participants: readonly string[]): ArtifactContext {
  return { plan, phases: phasesOf(plan), rootRoundsPerPass, participants: [...participants].sort() };
}

/** Root rounds the whole artifact takes (the compiled stop condition). */
export function totalRounds(ctx: Pick<ArtifactContext, 'phases' | 'rootRoundsPerPass'>): number {
  return ctx.phases.reduce((n, p) => n + p.passes * ctx.rootRoundsPerPass, 0);
}

/** The header of the first resource (phase 0, nothing answered). */
export function initialHeader(): ResourceHeader {
  return { v: 1, phase: 0, round: 0, slots: [], results: [], absent: [] };
}

/** The current phase, or undefined once the artifact is done. */
export function currentPhase(ctx: ArtifactContext, h: ResourceHeader): Phase | undefined {
  return ctx.phases[h.phase];
}

/** What a node has to answer from: its table, or why it cannot answer at all (no such dataset, bad file). */
export type NodeData = { readonly table: Table } | { readonly refusal: string };

/**
 * A leaf client's answer to the current analytics phase, at depth `depth`: the received
 * header with this node's partial answers in slot depth + 1.
 */
export function answerPhase(ctx: ArtifactContext, h: ResourceHeader, depth: number, member: string, data: NodeData, uniform: Uniform): ResourceHeader {
  const phase = currentPhase(ctx, h);
  if (phase?.kind !== 'analytics') throw new Error(`phase ${h.phase} is not an analytics phase`);
  const slots = fit(h.slots, depth + 1);
  const seen = slots.some((s) => s?.visited.includes(member));
  const answer: PhasePartial = seen
    ? { visited: [], queries: phase.queries.map(emptyOf) }
    : { visited: [member], queries: phase.queries.map((q) => answerQuery(ctx, q, member, data, uniform)) };
  return { ...h, slots: [...slots, answer] };
}

function answerQuery(ctx: ArtifactContext, q: PlannedQuery, member: string, data: NodeData, uniform: Uniform): QueryPartial {
  const bins = q.step.kind === 'histogram' ? q.step.bins.count : null;
  if ('refusal' in data) return refusalPartial(member, data.refusal, bins);
  const privacy = ctx.plan.privacy;
  try {
    const view = applyWhere(fullView(data.table), q.where);
    const refusal = groupSizeRefusal(view.rows.length, privacy);
    if (refusal) return refusalPartial(member, refusal, bins);
    let p: QueryPartial;
    let bounds: { min: number; max: number } | undefined;
    if (q.step.kind === 'count') p = partialOf(member, [], null, view.rows.length);
    else {
      let values = numericValues(view, q.step.column);
      bounds = privacy.noise?.bounds[q.step.column];
      if (privacy.noise && q.step.kind === 'stats' && bounds) values = clip(values, bounds);
      p = partialOf(member, values, q.step.kind === 'histogram' ? q.step.bins : null);
    }
    return addNoise(p, q.step, privacy, uniform, bounds);
  } catch (err) {
    if (err instanceof ColumnError) return refusalPartial(member, err.message, bins);
    throw err;
  }
}

/** What {@link mergeAt} did. */
export interface MergeOutcome {
  readonly header: ResourceHeader;
  /** Set when the root moved into a new phase (a train phase needs fresh weights). */
  readonly entered?: Phase;
}

/**
 * A worker's merge at depth `depth`: folds the inputs' slot depth + 1 into the base's slot
 * depth. At the root (depth 0) it also counts the round, and closes the phase once its
 * rounds are done: the results are computed and the next phase begins.
 */
export function mergeAt(ctx: ArtifactContext, depth: number, base: ResourceHeader, inputs: readonly ResourceHeader[]): MergeOutcome {
  const phase = currentPhase(ctx, base);
  if (!phase) return { header: base };
  for (const x of inputs) if (x.phase !== base.phase) throw new Error(`an input answers phase ${x.phase}, but the round is in phase ${base.phase}`);
  let slots = fit(base.slots, depth);
  if (phase.kind === 'analytics') {
    let acc: PhasePartial = base.slots[depth] ?? { visited: [], queries: phase.queries.map(emptyOf) };
    for (const x of inputs) {
      const p = x.slots[depth + 1];
      if (p) acc = mergePhase(acc, p);
    }
    slots = [...slots, acc];
  } else {
    slots = fit(base.slots, depth + 1);
  }
  if (depth > 0) return { header: { ...base, slots } };
  const round = base.round + 1;
  if (round < phase.passes * ctx.rootRoundsPerPass) return { header: { ...base, round, slots } };
  const header: ResourceHeader = {
    ...base,
    phase: base.phase + 1,
    round: 0,
    slots: [],
    results: [...base.results, ...phaseResults(phase, slots[0] ?? null)],
    absent: phase.kind === 'analytics' ? [...base.absent, { phase: base.phase, members: ctx.participants.filter((m) => !slots[0]?.visited.includes(m)) }] : base.absent,
  };
  const next = ctx.phases[header.phase];
  return next ? { header, entered: next } : { header };
}

/** Merges two phase partials query by query. */
export function mergePhase(a: PhasePartial, b: PhasePartial): PhasePartial {
  if (a.queries.length !== b.queries.length) throw new Error('phase partials with different numbers of queries cannot be merged');
  return { visited: [...new Set([...a.visited, ...b.visited])].sort(), queries: a.queries.map((q, i) => mergePartials(q, b.queries[i]!)) };
}

function phaseResults(phase: Phase, acc: PhasePartial | null): StepResult[] {
  if (phase.kind === 'train') return [{ step: phase.stepIndex, kind: 'train', ...named(phase.step.name), rounds: phase.passes, model: phase.step.model.kind }];
  return phase.queries.map((q, i) => queryResult(q, acc?.queries[i] ?? emptyOf(q)));
}

/** The final answer of one query from its merged partial. */
export function queryResult(q: PlannedQuery, p: QueryPartial): StepResult {
  const common = { step: q.stepIndex, ...named(q.step.name) };
  const who = { members: p.members, refusals: p.refusals };
  const s = q.step;
  if (s.kind === 'count') return { ...common, kind: 'count', count: p.n, ...who };
  if (s.kind === 'histogram') return { ...common, kind: 'histogram', column: s.column, edges: binEdges(s.bins), counts: p.bins ?? [], below: p.below, above: p.above, ...who };
  const all: Record<string, number | null> = {
    count: p.n,
    sum: p.sum,
    mean: p.n > 0 ? p.mean : null,
    variance: sampleVariance(p),
    min: p.min,
    max: p.max,
  };
  return { ...common, kind: 'stats', column: s.column, values: Object.fromEntries(s.ops.map((op) => [op, all[op]!])), ...who };
}

function emptyOf(q: PlannedQuery): QueryPartial {
  return emptyPartial(q.step.kind === 'histogram' ? q.step.bins.count : null);
}

function named(name: string | undefined): { name?: string } {
  return name === undefined ? {} : { name };
}

// The slots 0..n-1 of a header, padded with nulls.
function fit(slots: readonly (PhasePartial | null)[], n: number): (PhasePartial | null)[] {
  return Array.from({ length: n }, (_, i) => slots[i] ?? null);
}
