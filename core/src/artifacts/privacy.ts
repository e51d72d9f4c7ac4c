import type { PrivacySpec } from '../spec/artifactPlan.js';
import type { QueryPartial } from './partial.js';
import type { QueryStep } from '../spec/artifactSteps.js';

// The guards a node applies to its own answer before it leaves the node (docs/ARTIFACTS.md,
// "Privacy"): a minimum group size, and optional Laplace noise (local differential privacy).

/** Uniform in [0, 1): the noise source (crypto-strength in the runtime, seeded in tests). */
export type Uniform = () => number;

/**
 * Why a node must refuse a query over `rows` rows, or null. The reason does not say how
 * many rows there were: that number is what the guard protects.
 */
export function groupSizeRefusal(rows: number, privacy: PrivacySpec): string | null {
  if (rows >= privacy.minGroupSize) return null;
  return `fewer than minGroupSize ${privacy.minGroupSize} rows in the current view`;
}

/** A Laplace(0, scale) draw by inversion. */
export function laplace(scale: number, uniform: Uniform): number {
  let u = uniform() - 0.5;
  // u = -0.5 would give log(0); redraw (probability 2^-53).
  while (u === -0.5) u = uniform() - 0.5;
  return -scale * Math.sign(u) * Math.log(1 - 2 * Math.abs(u));
}

/** Clips values to a column's declared bounds (what bounds the sensitivity). */
export function clip(values: readonly number[], bounds: { min: number; max: number }): number[] {
  return values.map((v) => Math.min(bounds.max, Math.max(bounds.min, v)));
}

/**
 * Adds Laplace noise to a node's own partial, spending `epsilon` on the query. Neighbouring
 * datasets differ by one row (added or removed):
 * - count: sensitivity 1, noise Laplace(1/ε);
 * - stats: count, sum and sum of squares each get ε/3, with sensitivities 1, max(|lo|, |hi|)
 *   and max(lo², hi²) of the clipped values; mean and M2 are rederived from the noisy sums;
 * - histogram: one row changes one bin (or below/above) by 1, so each gets Laplace(1/ε).
 * min and max cannot be released this way; the schema forbids them with noise.
 */
export function addNoise(p: QueryPartial, step: QueryStep, privacy: PrivacySpec, uniform: Uniform, bounds?: { min: number; max: number }): QueryPartial {
  const noise = privacy.noise;
  if (!noise) return p;
  const eps = noise.epsilon;
  if (step.kind === 'count') return { ...p, n: p.n + laplace(1 / eps, uniform) };
  if (step.kind === 'histogram') {
    return { ...p, bins: p.bins!.map((b) => b + laplace(1 / eps, uniform)), below: p.below + laplace(1 / eps, uniform), above: p.above + laplace(1 / eps, uniform) };
  }
  if (!bounds) throw new Error(`noise on column ${step.column} needs bounds`);
  const sumSq = p.m2 + p.n * p.mean * p.mean;
  const n = p.n + laplace(3 / eps, uniform);
  const sum = p.sum + laplace((3 * Math.max(Math.abs(bounds.min), Math.abs(bounds.max))) / eps, uniform);
  const sq = sumSq + laplace((3 * Math.max(bounds.min * bounds.min, bounds.max * bounds.max)) / eps, uniform);
  const mean = n > 0 ? sum / n : 0;
  return { ...p, n, sum, mean, m2: n > 0 ? sq - (sum * sum) / n : 0, min: null, max: null };
}
