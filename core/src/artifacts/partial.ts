import { z } from 'zod';

// The partial answer of one query, and how two partials merge (docs/ARTIFACTS.md,
// "Exactness"). Merging is associative and commutative up to floating-point rounding (and
// exactly so for counts, histogram bins, min and max, which are integers or comparisons),
// so any tree of merges, in any distribution, gives the centralised answer. Workers merge
// inputs in the protocol's sorted order, so redundant workers produce identical bytes.
//
// Mean and variance use Chan et al.'s parallel algorithm (count, mean, M2) rather than
// (count, sum, sum of squares): M2 is a sum of squared deviations, which never cancels
// catastrophically when the mean is large compared with the spread.

/** A node that declined to answer, and why. */
export const Refusal = z.strictObject({ member: z.string().min(1).max(256), reason: z.string().max(500) });
export type Refusal = z.infer<typeof Refusal>;

/** The partial answer of one query. Numbers are float64 (noise may make counts fractional). */
export const QueryPartial = z.strictObject({
  /** Nodes whose values are in, sorted. */
  members: z.array(z.string()),
  /** Nodes that refused, sorted by member. */
  refusals: z.array(Refusal),
  /** Rows (count) or non-missing values (stats). */
  n: z.number(),
  sum: z.number(),
  mean: z.number(),
  /** Sum of squared deviations from the mean. */
  m2: z.number(),
  min: z.number().nullable(),
  max: z.number().nullable(),
  bins: z.array(z.number()).nullable(),
  below: z.number(),
  above: z.number(),
});
export type QueryPartial = z.infer<typeof QueryPartial>;

/** The identity of {@link mergePartials}. */
export function emptyPartial(bins: number | null = null): QueryPartial {
  return { members: [], refusals: [], n: 0, sum: 0, mean: 0, m2: 0, min: null, max: null, bins: bins === null ? null : new Array<number>(bins).fill(0), below: 0, above: 0 };
}

/** One node's refusal as a partial. */
export function refusalPartial(member: string, reason: string, bins: number | null = null): QueryPartial {
  return { ...emptyPartial(bins), refusals: [{ member, reason }] };
}

/** Merges two partials of the same query (Chan et al. for mean and M2). */
export function mergePartials(a: QueryPartial, b: QueryPartial): QueryPartial {
  if ((a.bins === null) !== (b.bins === null) || (a.bins && b.bins && a.bins.length !== b.bins.length)) {
    throw new Error('partials of different queries cannot be merged (their histogram bins differ)');
  }
  const n = a.n + b.n;
  let mean: number;
  let m2: number;
  if (a.n === 0) ({ mean, m2 } = b);
  else if (b.n === 0) ({ mean, m2 } = a);
  else {
    const delta = b.mean - a.mean;
    mean = a.mean + (delta * b.n) / n;
    m2 = a.m2 + b.m2 + (delta * delta * a.n * b.n) / n;
  }
  return {
    members: unionSorted(a.members, b.members),
    refusals: [...a.refusals, ...b.refusals].sort((x, y) => cmp(x.member, y.member)),
    n,
    sum: a.sum + b.sum,
    mean,
    m2,
    min: a.min === null ? b.min : b.min === null ? a.min : Math.min(a.min, b.min),
    max: a.max === null ? b.max : b.max === null ? a.max : Math.max(a.max, b.max),
    bins: a.bins && b.bins ? a.bins.map((x, i) => x + b.bins![i]!) : null,
    below: a.below + b.below,
    above: a.above + b.above,
  };
}

/** A node's exact partial over its own values. */
export function partialOf(member: string, values: readonly number[], bins: { min: number; max: number; count: number } | null, rows?: number): QueryPartial {
  const p = emptyPartial(bins ? bins.count : null);
  p.members = [member];
  // Two passes: the mean first, then squared deviations from it (exact where one pass is not).
  let sum = 0;
  for (const v of values) sum += v;
  const n = values.length;
  const mean = n > 0 ? sum / n : 0;
  let m2 = 0;
  for (const v of values) m2 += (v - mean) * (v - mean);
  p.n = rows ?? n;
  p.sum = sum;
  p.mean = mean;
  p.m2 = m2;
  for (const v of values) {
    p.min = p.min === null || v < p.min ? v : p.min;
    p.max = p.max === null || v > p.max ? v : p.max;
  }
  if (bins && p.bins) {
    for (const v of values) {
      const i = binIndex(v, bins);
      if (i < 0) p.below++;
      else if (i >= bins.count) p.above++;
      else p.bins[i]!++;
    }
  }
  return p;
}

/**
 * The bin of a value: bins are [min + i·w, min + (i+1)·w), the last one closed at max;
 * -1 below, `count` above. Computed as floor((v − min) / (max − min) · count), so every node
 * puts a value in the same bin.
 */
export function binIndex(v: number, bins: { min: number; max: number; count: number }): number {
  if (v < bins.min) return -1;
  if (v > bins.max) return bins.count;
  if (v === bins.max) return bins.count - 1;
  return Math.min(bins.count - 1, Math.floor(((v - bins.min) / (bins.max - bins.min)) * bins.count));
}

/** The bin edges of a histogram (count + 1 numbers). */
export function binEdges(bins: { min: number; max: number; count: number }): number[] {
  return Array.from({ length: bins.count + 1 }, (_, i) => (i === bins.count ? bins.max : bins.min + ((bins.max - bins.min) * i) / bins.count));
}

/** Sample variance (n − 1 in the denominator), or null below two values. */
export function sampleVariance(p: QueryPartial): number | null {
  return p.n >= 2 ? p.m2 / (p.n - 1) : null;
}

function unionSorted(a: readonly string[], b: readonly string[]): string[] {
  return [...new Set([...a, ...b])].sort(cmp);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
